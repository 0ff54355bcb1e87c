"""Demo knowledge base for ``make run`` (``manage.py seed_kb``): categories and realistic IT articles.

Written by the demo tier-1 agent and published by the demo manager through the real
services, so every article has its version, author, reviewer and log. Idempotent: an
article whose title exists is left alone.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction

from helpdesk.core.models import User

from . import services
from .models import Article, ArticleVersion, Category, Deflection, Visibility

CATEGORIES = [
    ("accounts", "Accounts and passwords", "Sign-in, passwords, multi-factor authentication", 10),
    ("network", "Network and VPN", "Wi-Fi, VPN and remote work", 20),
    ("email", "E-mail and calendar", "Outlook, shared mailboxes, meetings", 30),
    ("printing", "Printing and scanning", "Printers, queues and scanners", 40),
    ("hardware", "Laptops and devices", "Docks, screens, headsets", 50),
    ("software", "Software", "Installing and updating applications", 60),
]

ARTICLES: list[dict[str, Any]] = [
    {
        "category": "accounts",
        "title": "Reset your password yourself",
        "summary": "Forgot your password or it expired? Reset it in two minutes at the self-service portal.",
        "tags": ["password", "sign-in", "self-service"],
        "body": (
            "1. On any device, open **https://password.example.com**.\n"
            "2. Enter your e-mail address and choose *Send code*.\n"
            "3. Type the code from the authenticator app or the text message.\n"
            "4. Choose a new password: at least 12 characters, not one you used before.\n\n"
            "Your laptop picks up the new password the next time it is on the office network or the VPN. "
            "If it still shows the old one, lock the screen (Windows key + L) and sign in again."
        ),
    },
    {
        "category": "accounts",
        "title": "Set up multi-factor authentication on a new phone",
        "summary": "Moving the authenticator app to a new phone, or the old one was lost.",
        "tags": ["mfa", "authenticator", "phone"],
        "body": (
            "## Still have the old phone\n\n"
            "Open https://mysignins.example.com, choose *Security info > Add method > Authenticator app* and "
            "scan the code with the new phone. Then delete the old phone from the list.\n\n"
            "## Lost the old phone\n\n"
            "Submit a ticket: the service desk checks who you are by phone and issues a temporary access pass."
        ),
    },
    {
        "category": "network",
        "title": "VPN disconnects every hour",
        "summary": "Since the 5.2 client update the VPN drops after about an hour; reconnecting works until the next.",
        "tags": ["vpn", "remote work", "disconnect"],
        "is_known_error": True,
        "workaround": (
            "Open the VPN client, choose **Settings > Connection** and switch *Re-key interval* from "
            "*Automatic* to **8 hours**, then reconnect. The fixed client (5.2.3) is being rolled out."
        ),
        "body": (
            "Since the VPN client 5.2 update, the connection is re-keyed every hour and some home routers drop "
            "the tunnel while it happens. Teams calls and file copies are interrupted.\n\n"
            "The vendor has confirmed the fault; version 5.2.3 fixes it and reaches all laptops through "
            "Software Center by the end of the month."
        ),
    },
    {
        "category": "network",
        "title": "Connect to the office Wi-Fi",
        "summary": "Use Corp-Secure with your company account; Corp-Guest is for visitors and blocks internal sites.",
        "tags": ["wifi", "wireless", "network"],
        "body": (
            "1. Choose **Corp-Secure** in the Wi-Fi list.\n"
            "2. Sign in with your company e-mail address and password.\n"
            "3. Accept the certificate *radius.example.com*.\n\n"
            "If the laptop keeps joining Corp-Guest, *forget* that network in the Wi-Fi settings."
        ),
    },
    {
        "category": "email",
        "title": "Outlook keeps asking for my password",
        "summary": "A stored old password makes Outlook prompt again and again after a password change.",
        "tags": ["outlook", "password", "credential manager"],
        "body": (
            "1. Close Outlook.\n"
            "2. Open **Credential Manager** from the Start menu, then *Windows Credentials*.\n"
            "3. Remove every entry that starts with *MicrosoftOffice* or *outlook*.\n"
            "4. Start Outlook and sign in once with the new password."
        ),
    },
    {
        "category": "email",
        "title": "Add a shared mailbox to Outlook",
        "summary": "Shared mailboxes you may use appear by themselves within an hour; here is how to add one at once.",
        "tags": ["outlook", "shared mailbox"],
        "body": (
            "Shared mailboxes appear in the folder list within an hour after access is granted. To add one at once: "
            "*File > Account settings > Account settings > Change > More settings > Advanced > Add* and type the "
            "mailbox name."
        ),
    },
    {
        "category": "printing",
        "title": "Printer shows as offline",
        "summary": "Windows lists the printer as offline although it is switched on: restart the print queue.",
        "tags": ["printer", "offline", "print queue"],
        "body": (
            "1. Open *Settings > Bluetooth & devices > Printers & scanners*.\n"
            "2. Choose the printer, then *Open print queue* and cancel stuck documents.\n"
            "3. Still offline? Remove the printer and add it again from **\\\\print.example.com**.\n\n"
            "Printers on floors 2-4 are named after their room, e.g. `P-3.14`."
        ),
    },
    {
        "category": "printing",
        "title": "Scan to e-mail from the multifunction printers",
        "summary": "Badge in, choose Scan to me, and the PDF arrives in your inbox within a minute.",
        "tags": ["scanner", "scan", "pdf"],
        "body": "Hold your badge to the reader, choose **Scan to me**, put the pages in the feeder and press *Start*.",
    },
    {
        "category": "hardware",
        "title": "External screens stay black on the docking station",
        "summary": "Update the dock firmware and unplug the dock's power for ten seconds.",
        "tags": ["dock", "monitor", "screen"],
        "body": (
            "1. Install *Dock firmware* from Software Center.\n"
            "2. Unplug the dock's power cable for ten seconds, then plug it back in.\n"
            "3. Press Windows key + P and choose *Extend*."
        ),
    },
    {
        "category": "software",
        "title": "Install software from Software Center",
        "summary": "Approved applications install without admin rights from Software Center.",
        "tags": ["software", "install", "software center"],
        "body": (
            "Open **Software Center** from the Start menu, search for the application and choose *Install*. "
            "Not listed? Submit a ticket with the name and the business reason; licences need a manager's approval."
        ),
    },
    {
        "category": "accounts",
        "title": "Runbook: unlock an account locked by repeated failed sign-ins",
        "summary": "Tier 1 steps to find the lockout source and unlock a directory account.",
        "tags": ["runbook", "lockout", "active directory"],
        "visibility": Visibility.INTERNAL,
        "body": (
            "1. Verify the caller's identity (call-back to the number in the HR system).\n"
            "2. In the directory console, find the account and check *Lockout source*.\n"
            "3. A phone with an old password is the usual source: ask the requester to remove the mail account "
            "from the phone first, or the account locks again.\n"
            "4. Unlock the account and note the source in the ticket."
        ),
    },
]


def seed_kb_content() -> int:
    """Create the demo categories and publish the demo articles that do not exist yet; returns how many."""
    from tickets.services import seed_demo

    user_model = get_user_model()
    if user_model.objects.filter(username__in=["agent1", "manager"]).count() != 2:
        seed_demo()
    author = user_model.objects.get(username="agent1")
    reviewer = user_model.objects.get(username="manager")
    created = 0
    with transaction.atomic():
        categories = {}
        for slug, name, description, position in CATEGORIES:
            categories[slug], _ = Category.objects.get_or_create(
                slug=slug, defaults={"name": name, "description": description, "position": position}
            )
        existing = set(Article.objects.values_list("title", flat=True))
        for data in ARTICLES:
            if data["title"] in existing:
                continue
            fields = {**data, "category": categories[data["category"]]}
            article = services.create_article(by=author, **fields)
            services.submit_article(article_id=article.pk, by=author)
            services.publish_article(article_id=article.pk, by=reviewer)
            created += 1
    return created


def seed_demo_deflections(*, users: list[User], now: datetime, days: int = 90, per_day: float = 5.0) -> int:
    """The demo desk's past deflections: ``users`` said a suggested public article solved their problem.

    About ``per_day`` a day over the last ``days`` days, each naming a live public article and
    the words typed (its title's first words), dated in the past. Idempotent: nothing is written
    when ``users`` already have deflections. Returns how many were written. Written in bulk, so
    no signal runs: the caller marks the KPI rollup's days (the history's tickets mark them too).
    """
    if not users or Deflection.objects.filter(user__in=users).exists():
        return 0
    articles = list(
        ArticleVersion.objects.filter(is_live=True, visibility=Visibility.PUBLIC).values_list("article_id", "title")
    )
    if not articles:
        return 0
    rng = random.Random(16)  # noqa: S311 - demo data, repeatable on purpose
    rows = []
    for back in range(days, 0, -1):
        for _ in range(max(0, round(rng.gauss(per_day, 2)))):
            article_id, title = rng.choice(articles)
            created_at = now - timedelta(days=back, minutes=rng.randint(0, 8 * 60))
            query = " ".join(title.lower().split()[:3])
            rows.append(Deflection(user=rng.choice(users), article_id=article_id, query=query, created_at=created_at))
    Deflection.objects.bulk_create(rows)
    return len(rows)

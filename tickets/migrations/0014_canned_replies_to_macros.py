"""The canned replies become tier macros (issue 16): same tier, name and text, placeholders renamed.

A canned reply's {requester_name} and {agent_name} are a macro's {requester} and {agent};
{reference} stays. A tier that already has a macro of that name keeps it (the migration can
run on a desk where someone created macros first). The canned replies are left in place.
"""

from django.db import migrations

RENAMED = {"{requester_name}": "{requester}", "{agent_name}": "{agent}"}


def canned_replies_to_macros(apps, schema_editor):
    CannedReply = apps.get_model("tickets", "CannedReply")
    Macro = apps.get_model("tickets", "Macro")
    taken = set(Macro.objects.filter(owner__isnull=True).values_list("tier", "name"))
    new = []
    for canned in CannedReply.objects.order_by("tier", "title"):
        name = canned.title[:80]
        if (canned.tier, name) in taken:
            continue
        body = canned.body
        for old, placeholder in RENAMED.items():
            body = body.replace(old, placeholder)
        new.append(Macro(name=name, tier=canned.tier, owner=None, kind="public", body=body))
        taken.add((canned.tier, name))
    Macro.objects.bulk_create(new)


class Migration(migrations.Migration):
    dependencies = [("tickets", "0013_agent_workspace")]

    operations = [migrations.RunPython(canned_replies_to_macros, migrations.RunPython.noop)]

"""Writes the .eml files of this folder: real-world-shaped messages, byte for byte.

Kept so the corpus can be read as Python (what each file is, how it is encoded) and made again:
``python tests/mail/corpus/make_corpus.py``. Replies name the placeholder ticket HD-999999 and
token TOKEN; the tests put a real ticket's reference, Message-IDs and reply token in their place.
"""

import base64
import quopri
import struct
import zlib
from pathlib import Path

HERE = Path(__file__).resolve().parent


def crlf(text: str) -> bytes:
    return text.replace("\n", "\r\n").encode("ascii")


def write(name: str, data: bytes) -> None:
    (HERE / name).write_bytes(data)


def png() -> bytes:
    """A real 2x2 red PNG."""
    raw = b"".join(b"\x00" + b"\xff\x00\x00" * 2 for _ in range(2))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", 2, 2, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")


def b64(data: bytes) -> str:
    return base64.encodebytes(data).decode("ascii")


def qp(text: str, charset: str) -> str:
    return quopri.encodestring(text.encode(charset)).decode("ascii")


def main() -> None:
    write(
        "plain_utf8.eml",
        crlf(
            "Return-Path: <anna.schmidt@customer.example>\n"
            "Received: from mx.customer.example (mx.customer.example [192.0.2.10])\n"
            "\tby mail.helpdesk.example with ESMTPS id 4ABC123; Mon, 03 Jun 2024 09:12:01 +0200\n"
            "From: Anna Schmidt <anna.schmidt@customer.example>\n"
            "To: IT Helpdesk <helpdesk@helpdesk.example>\n"
            "Subject: VPN drops every 10 minutes\n"
            "Date: Mon, 03 Jun 2024 09:11:58 +0200\n"
            "Message-ID: <CAF=plain.utf8.0001@mail.customer.example>\n"
            "MIME-Version: 1.0\n"
            'Content-Type: text/plain; charset="UTF-8"\n'
            "Content-Transfer-Encoding: 8bit\n\n"
        )
        + "Hello,\r\n\r\nsince this morning my VPN connection drops every 10 minutes. Grüße aus Köln \u2013 I tried "
        "restarting.\r\n\r\nThanks,\r\nAnna\r\n".encode(),
    )

    write(
        "multipart_alternative.eml",
        crlf(
            'From: "Bob Jones" <bob.jones@customer.example>\n'
            "To: helpdesk@helpdesk.example\n"
            "Subject: Printer on floor 2 shows paper jam\n"
            "Date: Tue, 04 Jun 2024 10:00:00 +0000\n"
            "Message-ID: <CAB+alt.0002@mail.gmail.com>\n"
            "MIME-Version: 1.0\n"
            'Content-Type: multipart/alternative; boundary="000000000000a1b2c3"\n\n'
            "--000000000000a1b2c3\n"
            'Content-Type: text/plain; charset="UTF-8"\n\n'
            'The printer PRN-2F says "paper jam" but there is no paper stuck.\n\n'
            "--000000000000a1b2c3\n"
            'Content-Type: text/html; charset="UTF-8"\n\n'
            '<div dir="ltr">The printer <b>PRN-2F</b> says &quot;paper jam&quot; but there is no paper stuck.</div>\n\n'
            "--000000000000a1b2c3--\n"
        ),
    )

    write(
        "html_only.eml",
        crlf(
            "From: Carla <carla@customer.example>\n"
            "To: helpdesk@helpdesk.example\n"
            "Subject: New laptop request\n"
            "Date: Tue, 04 Jun 2024 11:00:00 +0000\n"
            "Message-ID: <html.only.0003@customer.example>\n"
            "MIME-Version: 1.0\n"
            "Content-Type: text/html; charset=utf-8\n"
            "Content-Transfer-Encoding: 7bit\n\n"
            "<html><head><style>p { color: red; }</style><title>ignored title</title></head>\n"
            "<body><p>Hi team,</p><p>I need a new laptop for the new hire:</p>\n"
            "<ul><li>16&nbsp;GB RAM</li><li>Docking station</li></ul>\n"
            '<p>Budget &amp; approval: <a href="https://intranet.example/approval/42">approval #42</a></p>\n'
            "<script>alert('x')</script>\n"
            "</body></html>\n"
        ),
    )

    body = "Das Passwort für das Lohnportal läuft morgen ab und der Reset-Link funktioniert nicht.\r\n"
    write(
        "base64_body.eml",
        crlf(
            "From: =?UTF-8?Q?J=C3=BCrgen_M=C3=BCller?= <juergen@customer.example>\n"
            "To: helpdesk@helpdesk.example\n"
            "Subject: =?UTF-8?B?UGFzc3dvcnQgbMOkdWZ0IGFi?=\n"
            "Date: Wed, 05 Jun 2024 08:00:00 +0200\n"
            "Message-ID: <base64.0004@customer.example>\n"
            "MIME-Version: 1.0\n"
            "Content-Type: text/plain; charset=utf-8\n"
            "Content-Transfer-Encoding: base64\n\n" + b64(body.encode("utf-8"))
        ),
    )

    french = (
        "Le serveur de fichiers \\\\fs01 est très lent depuis la mise à jour. Les copies de plus de 100 Mo "
        "échouent avec une erreur réseau après quelques secondes.\n"
    )
    write(
        "quoted_printable.eml",
        crlf(
            "From: =?utf-8?q?=C3=89lodie_Martin?= <elodie@customer.example>\n"
            "To: helpdesk@helpdesk.example\n"
            "Subject: =?utf-8?q?Serveur_de_fichiers_tr=C3=A8s_lent?=\n"
            "Date: Wed, 05 Jun 2024 09:00:00 +0200\n"
            "Message-ID: <qp.0005@customer.example>\n"
            "MIME-Version: 1.0\n"
            "Content-Type: text/plain; charset=utf-8\n"
            "Content-Transfer-Encoding: quoted-printable\n\n" + qp(french, "utf-8")
        ),
    )

    write(
        "iso_8859_1.eml",
        crlf(
            "From: =?ISO-8859-1?Q?Fran=E7ois_B=E9rard?= <francois@customer.example>\n"
            "To: helpdesk@helpdesk.example\n"
            "Subject: =?ISO-8859-1?Q?Probl=E8me_d'acc=E8s_=E0_l'imprimante?=\n"
            "Date: Thu, 06 Jun 2024 09:00:00 +0200\n"
            "Message-ID: <latin1.0006@customer.example>\n"
            "MIME-Version: 1.0\n"
            "Content-Type: text/plain; charset=ISO-8859-1\n"
            "Content-Transfer-Encoding: 8bit\n\n"
        )
        + "Je n'arrive plus à imprimer depuis le café du 2e étage. Merci d'avance, François\r\n".encode("latin-1"),
    )

    write(
        "windows_1252.eml",
        crlf(
            'From: "O\'Brien, Sean" <sean.obrien@customer.example>\n'
            "To: helpdesk@helpdesk.example\n"
            "Subject: =?Windows-1252?Q?Licence_renewal_=93overdue=94?=\n"
            "Date: Thu, 06 Jun 2024 10:00:00 +0100\n"
            "Message-ID: <cp1252.0007@EXCH01.customer.example>\n"
            "X-Mailer: Microsoft Outlook 16.0\n"
            "MIME-Version: 1.0\n"
            'Content-Type: text/plain; charset="Windows-1252"\n'
            "Content-Transfer-Encoding: quoted-printable\n\n"
            + qp("The invoice says \u201cpaid\u201d but the \u20ac 1,200 licence renewal is still overdue.\n", "cp1252")
        ),
    )

    subject = base64.b64encode("プロジェクター故障".encode("iso-2022-jp")).decode()
    name = base64.b64encode("山田太郎".encode("shift_jis")).decode()
    japanese = "お疲れ様です。会議室のプロジェクターが映りません。至急対応をお願いします。\r\n"
    write(
        "shift_jis.eml",
        crlf(
            f"From: =?shift_jis?B?{name}?= <yamada@customer.example>\n"
            "To: helpdesk@helpdesk.example\n"
            f"Subject: =?ISO-2022-JP?B?{subject}?=\n"
            "Date: Fri, 07 Jun 2024 09:00:00 +0900\n"
            "Message-ID: <sjis.0008@customer.example>\n"
            "MIME-Version: 1.0\n"
            'Content-Type: text/plain; charset="Shift_JIS"\n'
            "Content-Transfer-Encoding: base64\n\n" + b64(japanese.encode("shift_jis"))
        ),
    )

    write(
        "forwarded.eml",
        crlf(
            "From: Dana Lee <dana@customer.example>\n"
            "To: helpdesk@helpdesk.example\n"
            "Subject: Fwd: Suspicious e-mail about my account\n"
            "Date: Fri, 07 Jun 2024 12:00:00 +0000\n"
            "Message-ID: <fwd.0009@customer.example>\n"
            "MIME-Version: 1.0\n"
            'Content-Type: multipart/mixed; boundary="mixed-fwd"\n\n'
            "--mixed-fwd\n"
            "Content-Type: text/plain; charset=utf-8\n\n"
            "Is this phishing? I did not click anything.\n\n"
            "-- \n"
            "Dana Lee\n"
            "Accounting\n\n"
            "---------- Forwarded message ---------\n"
            "From: Security Team <security@evil.example>\n"
            "Date: Fri, 7 Jun 2024 at 11:02\n"
            "Subject: Verify your account\n"
            "To: <dana@customer.example>\n\n"
            "Your mailbox is full. Log in at http://evil.example/login to keep your e-mails.\n\n"
            "--mixed-fwd\n"
            "Content-Type: message/rfc822\n"
            'Content-Disposition: attachment; filename="Verify your account.eml"\n\n'
            "From: Security Team <security@evil.example>\n"
            "To: dana@customer.example\n"
            "Subject: Verify your account\n"
            "Message-ID: <phish.1@evil.example>\n"
            "Content-Type: text/plain; charset=us-ascii\n\n"
            "Your mailbox is full. Log in at http://evil.example/login to keep your e-mails.\n\n"
            "--mixed-fwd--\n"
        ),
    )

    write(
        "inline_image.eml",
        crlf(
            "From: Erik <erik@customer.example>\n"
            "To: helpdesk@helpdesk.example\n"
            "Subject: Error dialog when opening the CRM\n"
            "Date: Sat, 08 Jun 2024 09:00:00 +0000\n"
            "Message-ID: <inline.img.0010@customer.example>\n"
            "MIME-Version: 1.0\n"
            'Content-Type: multipart/related; boundary="rel-boundary"; type="text/html"\n\n'
            "--rel-boundary\n"
            "Content-Type: text/html; charset=utf-8\n"
            "Content-Transfer-Encoding: quoted-printable\n\n"
            '<p>When I open the CRM this dialog appears:</p><p><img src=3D"cid:image001.png@01DA" alt=3D"screenshot">'
            "</p><p>Then it closes.</p>\n\n"
            "--rel-boundary\n"
            'Content-Type: image/png; name="image001.png"\n'
            'Content-Disposition: inline; filename="image001.png"\n'
            "Content-ID: <image001.png@01DA>\n"
            "Content-Transfer-Encoding: base64\n\n" + b64(png()) + "\n--rel-boundary--\n"
        ),
    )

    write(
        "outlook_reply.eml",
        crlf(
            'From: "Schmidt, Anna" <anna.schmidt@customer.example>\n'
            "To: Helpdesk <helpdesk+TOKEN@helpdesk.example>\n"
            "Subject: RE: [HD-999999] VPN drops every 10 minutes\n"
            "Date: Mon, 03 Jun 2024 14:00:00 +0000\n"
            "Message-ID: <AM0PR01MB.outlook.0011@AM0PR01MB.eurprd01.prod.outlook.com>\n"
            "In-Reply-To: <ticket-999999.abc@helpdesk.example>\n"
            "References: <ticket-999999@helpdesk.example> <ticket-999999.abc@helpdesk.example>\n"
            "Thread-Topic: [HD-999999] VPN drops every 10 minutes\n"
            "X-MS-Has-Attach:\n"
            "MIME-Version: 1.0\n"
            'Content-Type: text/plain; charset="us-ascii"\n'
            "Content-Transfer-Encoding: quoted-printable\n\n"
            "Restarting the router fixed it, thank you! It has been stable for two hours=\n"
            " now.\n\n"
            "Kind regards\n"
            "Anna\n\n"
            "________________________________\n"
            "From: Helpdesk <helpdesk@helpdesk.example>\n"
            "Sent: Monday, June 3, 2024 1:00 PM\n"
            "To: Schmidt, Anna <anna.schmidt@customer.example>\n"
            "Subject: [HD-999999] VPN drops every 10 minutes\n\n"
            "##- Please type your reply above this line -##\n\n"
            "Please restart your router and tell us if it helps.\n"
        ),
    )

    write(
        "gmail_reply.eml",
        crlf(
            "From: Anna Schmidt <anna.schmidt@customer.example>\n"
            "To: helpdesk@helpdesk.example\n"
            "Subject: Re: [HD-999999] VPN drops every 10 minutes\n"
            "Date: Mon, 03 Jun 2024 15:00:00 +0000\n"
            "Message-ID: <CAF=gmail.reply.0012@mail.gmail.com>\n"
            "In-Reply-To: <ticket-999999.def@helpdesk.example>\n"
            "References: <ticket-999999@helpdesk.example> <ticket-999999.def@helpdesk.example>\n"
            "MIME-Version: 1.0\n"
            'Content-Type: text/plain; charset="UTF-8"\n\n'
            "It dropped again at 14:55, sorry.\n\n"
            "-- \n"
            "Anna Schmidt | Customer Ltd.\n"
            "+49 221 000000\n\n"
            "On Mon, Jun 3, 2024 at 2:00 PM Helpdesk <helpdesk@helpdesk.example> wrote:\n"
            "> ##- Please type your reply above this line -##\n"
            ">\n"
            "> Please restart your router and tell us if it helps.\n"
        ),
    )

    write(
        "auto_reply.eml",
        crlf(
            "From: Anna Schmidt <anna.schmidt@customer.example>\n"
            "To: helpdesk@helpdesk.example\n"
            "Subject: Automatic reply: [HD-999999] VPN drops every 10 minutes\n"
            "Date: Mon, 03 Jun 2024 13:00:05 +0000\n"
            "Message-ID: <ooo.0013@customer.example>\n"
            "In-Reply-To: <ticket-999999.abc@helpdesk.example>\n"
            "Auto-Submitted: auto-replied\n"
            "X-Autoreply: yes\n"
            "X-Auto-Response-Suppress: All\n"
            "MIME-Version: 1.0\n"
            "Content-Type: text/plain; charset=utf-8\n\n"
            "I am out of the office until June 10 with no access to e-mail.\n"
        ),
    )

    write(
        "bounce.eml",
        crlf(
            "Return-Path: <>\n"
            "From: Mail Delivery System <MAILER-DAEMON@mx.customer.example>\n"
            "To: helpdesk@helpdesk.example\n"
            "Subject: Undelivered Mail Returned to Sender\n"
            "Date: Mon, 03 Jun 2024 13:00:10 +0000\n"
            "Message-ID: <bounce.0014@mx.customer.example>\n"
            "MIME-Version: 1.0\n"
            'Content-Type: multipart/report; report-type=delivery-status; boundary="report-b"\n\n'
            "--report-b\n"
            "Content-Description: Notification\n"
            "Content-Type: text/plain; charset=us-ascii\n\n"
            "This is the mail system at host mx.customer.example.\n"
            "I'm sorry to have to inform you that your message could not be delivered.\n\n"
            "<nobody@customer.example>: host mx.customer.example said: 550 5.1.1 User unknown\n\n"
            "--report-b\n"
            "Content-Description: Delivery report\n"
            "Content-Type: message/delivery-status\n\n"
            "Reporting-MTA: dns; mx.customer.example\n\n"
            "Final-Recipient: rfc822; nobody@customer.example\n"
            "Action: failed\n"
            "Status: 5.1.1\n\n"
            "--report-b\n"
            "Content-Description: Undelivered Message Headers\n"
            "Content-Type: text/rfc822-headers\n\n"
            "From: Helpdesk <helpdesk@helpdesk.example>\n"
            "Subject: [HD-999999] VPN drops every 10 minutes\n\n"
            "--report-b--\n"
        ),
    )

    # LF line ends, an unclosed address, a broken encoded word next to raw UTF-8 bytes, a date
    # that is not one, a line that is not a header, an unterminated quote and broken base64.
    write(
        "malformed_headers.eml",
        (
            'From: "Zoë Kowalski" <zoe@customer.example\n'
            "To: helpdesk@helpdesk.example,, ,\n"
            "Subject: =?utf-8?B?broken-base64!!?= Drucker kaputt \u2013 bitte helfen\n"
            "Date: not a date\n"
            "this line is not a header\n"
            'Content-Type: text/plain; charset="utf-8\n'
            "Content-Transfer-Encoding: base64\n"
            "\n"
            "RGVyIERydWNrZXIgaW0gRmx1ciBkcnVja3Qgbm\n"
            "ur Streifen.!!\n"
        ).encode(),
    )

    write(
        "precedence_bulk.eml",
        crlf(
            "From: Vendor News <news@vendor.example>\n"
            "To: helpdesk@helpdesk.example\n"
            "Subject: Our June product update\n"
            "Date: Mon, 03 Jun 2024 06:00:00 +0000\n"
            "Message-ID: <news.0016@vendor.example>\n"
            "Precedence: bulk\n"
            "List-Unsubscribe: <mailto:unsubscribe@vendor.example>\n"
            "MIME-Version: 1.0\n"
            "Content-Type: text/plain; charset=utf-8\n\n"
            "Read all about our new features.\n"
        ),
    )

    write(
        "unknown_charset.eml",
        crlf(
            "From: Frank <frank@customer.example>\n"
            "To: helpdesk@helpdesk.example\n"
            "Subject: Monitor flickers\n"
            "Date: Mon, 03 Jun 2024 07:00:00 +0000\n"
            "Message-ID: <charset.0017@customer.example>\n"
            "MIME-Version: 1.0\n"
            'Content-Type: text/plain; charset="x-klingon-7"\n'
            "Content-Transfer-Encoding: 8bit\n\n"
        )
        + "My second monitor flickers \u2013 since Monday.\r\n".encode(),
    )

    pdf = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
    write(
        "attachment_rfc2231.eml",
        crlf(
            "From: Gisela <gisela@customer.example>\n"
            "To: helpdesk@helpdesk.example\n"
            "Subject: Invoice cannot be opened\n"
            "Date: Mon, 03 Jun 2024 08:00:00 +0000\n"
            "Message-ID: <att.0018@customer.example>\n"
            "MIME-Version: 1.0\n"
            'Content-Type: multipart/mixed; boundary="mix18"\n\n'
            "--mix18\n"
            "Content-Type: text/plain; charset=iso-8859-1\n"
            "Content-Transfer-Encoding: quoted-printable\n\n"
            "The attached invoice =93cannot be opened=94 in the viewer.\n\n"
            "--mix18\n"
            "Content-Type: application/pdf\n"
            "Content-Disposition: attachment; filename*=utf-8''Rechnung%20M%C3%A4rz.pdf\n"
            "Content-Transfer-Encoding: base64\n\n" + b64(pdf) + "\n--mix18--\n"
        ),
    )

    write(
        "read_receipt.eml",
        crlf(
            "From: Anna Schmidt <anna.schmidt@customer.example>\n"
            "To: helpdesk@helpdesk.example\n"
            "Subject: Read: [HD-999999] VPN drops every 10 minutes\n"
            "Date: Mon, 03 Jun 2024 13:30:00 +0000\n"
            "Message-ID: <mdn.0019@customer.example>\n"
            "MIME-Version: 1.0\n"
            'Content-Type: multipart/report; report-type=disposition-notification; boundary="mdn"\n\n'
            "--mdn\n"
            "Content-Type: text/plain; charset=utf-8\n\n"
            "Your message was read on Monday.\n\n"
            "--mdn\n"
            "Content-Type: message/disposition-notification\n\n"
            "Final-Recipient: rfc822;anna.schmidt@customer.example\n"
            "Disposition: manual-action/MDN-sent-manually; displayed\n\n"
            "--mdn--\n"
        ),
    )

    log = "".join(
        f"2024-06-03T09:{i // 60 % 60:02d}:{i % 60:02d} app[{i}]: ERROR connection reset by peer (attempt {i})\n"
        for i in range(24000)
    )
    write(
        "huge_body.eml",
        crlf(
            "From: Henrik <henrik@customer.example>\n"
            "To: helpdesk@helpdesk.example\n"
            "Subject: App log attached inline\n"
            "Date: Mon, 03 Jun 2024 09:30:00 +0000\n"
            "Message-ID: <huge.0020@customer.example>\n"
            "MIME-Version: 1.0\n"
            "Content-Type: text/plain; charset=utf-8\n\n"
            "The app keeps failing, here is the whole log:\n\n" + log
        ),
    )


if __name__ == "__main__":
    main()

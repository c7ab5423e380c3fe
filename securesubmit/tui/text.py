"""What the app shows for the core's own words: categories, countries, templates, errors.

The core speaks English. Its fixed texts are listed here with ``N_`` so that the catalogue
extractor sees them and translators translate them; ``_`` then finds them at run time by
their English text. tests/tui/test_i18n.py checks that this list and the core agree, so a
change in the core that is not translated fails a test instead of showing English.

Core messages that carry values (a date the user typed, a count) cannot be looked up this
way and are shown as the core wrote them.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

from securesubmit.core.models import CATEGORIES, COUNTRIES, TEMPLATES
from securesubmit.errors import SecureSubmitError
from securesubmit.tui.i18n import N_, _, current_language, ngettext

CORE_TEXTS = (
    # categories (models.CATEGORIES)
    N_("Media restriction"),
    N_("Repression of critics or civil society"),
    N_("Environmental information denied"),
    N_("Other"),
    # countries (models.COUNTRIES)
    N_("Kazakhstan"),
    N_("Kyrgyzstan"),
    N_("Tajikistan"),
    N_("Turkmenistan"),
    N_("Uzbekistan"),
    N_("Other / outside Central Asia"),
    # templates (models.TEMPLATES): titles, descriptions, field labels and help
    N_("Press freedom incident"),
    N_("A blocked outlet, a detained journalist, pressure on a blogger."),
    N_("Media outlet or channel"),
    N_("name, website or account"),
    N_("Kind of restriction"),
    N_("blocking, detention, assault, accreditation refused, lawsuit, threat …"),
    N_("Who is responsible"),
    N_("authority, agency or person"),
    N_("What happened since"),
    N_("outlet closed, fine, release"),
    N_("Repression or persecution case"),
    N_("Arrests, bans on assembly or association, persecution of critics."),
    N_("What was done"),
    N_("arrest, search, ban, charge …"),
    N_("Charges or legal basis used"),
    N_("article of the code"),
    N_("Authority acting"),
    N_("police, prosecutor, court …"),
    N_("Case number"),
    N_("if known"),
    N_("Status of the case"),
    N_("investigation, trial …"),
    N_("Environmental information request denied"),
    N_("Water, glaciers, uranium tailings, industrial pollution: access denied."),
    N_("What was requested"),
    N_("From whom"),
    N_("agency or company"),
    N_("When it was requested"),
    N_("YYYY-MM-DD"),
    N_("Legal basis"),
    N_("e.g. Aarhus Convention, art. 4"),
    N_("Answer received"),
    N_("refusal, silence, partial answer"),
    N_("When the answer came"),
    # errors with fixed texts (securesubmit.errors, core.vault, core.service, core.models)
    N_("The vault is in use by another SecureSubmit process."),
    N_("close the other window or command that has this vault open, then try again"),
    N_("This vault's keys were destroyed; its contents can never be read again."),
    N_("the keys were wiped by 'panic' or after too many wrong passphrases"),
    N_("too many wrong passphrases: this vault's keys were destroyed as configured"),
    N_("The vault file is damaged or is not a SecureSubmit vault."),
    N_("restore the vault from a backup; run 'securesubmit audit verify' to see what changed"),
    N_("the vault's key slot is damaged"),
    N_("This vault was written by a newer version of SecureSubmit."),
    N_("install the newest version of SecureSubmit to open it"),
    N_("No vault exists at this location."),
    N_("create one with 'securesubmit init', or point --vault at an existing vault"),
    N_("A vault already exists at this location."),
    N_("choose another path with --vault, or use the existing vault"),
    N_("the passphrase is too short (at least 8 characters)"),
    N_(
        "use several unrelated words; a long passphrase is easier to remember than a "
        "complex short one"
    ),
    N_("the name or organisation is too long"),
    N_("title is required"),
    N_("give a title"),
    N_("place contains control characters"),
    N_("title contains control characters"),
    N_("description contains control characters"),
    N_("person name is required"),
    N_("give a person name"),
    N_("a report needs a category"),
    N_("choose one of: media, repression, environment, other"),
    # identity cards, partners and statements (core.identity, core.partners, core.service)
    N_("The fingerprint does not match."),
    N_(
        "do not use this card; call the partner on a number you already know "
        "(not one written on the card or in the same message) and compare again"
    ),
    N_(
        "the fingerprint contains the digit 0, which fingerprints never use "
        "(did you mean the letter O?)"
    ),
    N_(
        "the fingerprint contains the digit 1, which fingerprints never use "
        "(did you mean the letter I or L?)"
    ),
    N_(
        "the fingerprint contains the digit 8, which fingerprints never use "
        "(did you mean the letter B?)"
    ),
    N_("that is too long to be a fingerprint (32 letters and digits)"),
    N_("This identity card has expired."),
    N_("ask the partner for a new card, and compare its fingerprint with them again"),
    N_("This identity card is not valid yet."),
    N_("check the date and time of this computer; then ask the partner when they made the card"),
    N_("This key was revoked by its owner."),
    N_(
        "send nothing more to this key and trust nothing it signed after the revocation; "
        "ask the partner, by phone or in person, for their new card"
    ),
    N_("The key rotations do not form an unbroken chain from the card you checked."),
    N_(
        "keep using the card you checked; ask the partner, by phone or in person, "
        "for their new card and compare its fingerprint"
    ),
    N_("this is your own card; add the cards of your partners"),
    N_("nothing was changed"),
    N_("this statement was already applied; nothing was changed"),
    N_("none of your partners has the key this statement is about"),
    N_("add the partner's card first"),
    N_("this is an identity card, not a statement"),
    N_("this is not a SecureSubmit rotation or revocation statement"),
    N_("its fingerprint differs from the manifest: do not use it"),
    N_("the trust store manifest is not UTF-8 text"),
    N_("the trust store lists too many cards"),
    N_("a name is required"),
    N_("a pseudonym is fine"),
    N_("your card needs a name"),
    N_("set one with: securesubmit identity rename --name 'Your name'"),
    N_("choose another file name, or remove the existing file first"),
    N_("A file is malformed and was refused; nothing was changed."),
    N_("Verification failed: the data was altered, forged or damaged."),
    N_("A signature does not verify: the data was altered or not signed by this key."),
    # the audit (core.audit)
    N_("compare with a backup and with checkpoints partners kept"),
    N_("the vault's log key is missing or damaged"),
    N_("the vault has no signed checkpoint"),
    N_("the log was rewritten: its root differs from the signed one"),
    # attachments (core.scrub, core.service)
    N_("not checked for metadata"),
    N_("EXIF data (camera settings and dates)"),
    N_("EXIF data (damaged; SecureSubmit could not read it)"),
    N_("GPS position (in a form SecureSubmit could not read)"),
    N_("GPS date and time"),
    N_("the direction the camera was facing"),
    N_("GPS data"),
    N_("maker notes (the camera maker's private data; they often include the serial number)"),
    N_("a small preview copy of the photo (thumbnail)"),
    N_("ICC colour profile"),
    N_("ICC colour profile (it can name the screen or scanner it was made for)"),
    N_("multi-picture data (extra images such as previews or depth maps)"),
    N_("IPTC data (captions, names, places)"),
    N_("Photoshop data"),
    N_("Photoshop thumbnail"),
    N_("Photoshop 'Save for Web' data (can hold a comment or copyright)"),
    N_("XMP packet"),
    N_("JPEG photo"),
    N_("PNG image"),
    N_("WebP image"),
    N_("TIFF image"),
    N_("Word document (.docx)"),
    N_("Excel spreadsheet (.xlsx)"),
    N_("PowerPoint presentation (.pptx)"),
    N_("OpenDocument text (.odt)"),
    N_("OpenDocument spreadsheet (.ods)"),
    N_("OpenDocument presentation (.odp)"),
    N_("OpenDocument drawing (.odg)"),
    N_("PDF document"),
    N_("HEIC or AVIF photo"),
    N_("camera RAW photo"),
    N_("GIF image"),
    N_("video"),
    N_("audio recording"),
    N_("old-format or password-protected Office file"),
    N_("ZIP archive"),
    N_("EPUB book"),
    N_("Office file"),
    N_("file of unknown kind"),
    N_(
        "This PDF's metadata cannot be removed by SecureSubmit. It may contain the author's "
        "name, the program and computer that made it, dates, and the hidden metadata of any "
        "photos inside it, such as GPS positions. If that could identify you or a source, do "
        "not attach it as it is: for example, take screenshots of the pages and attach those."
    ),
    N_(
        "SecureSubmit cannot remove the metadata of HEIC or AVIF photos (the usual format of "
        "iPhones). They usually contain the GPS position where the photo was taken, the phone "
        "model and the time. Convert the photo to JPEG, or take a screenshot of it, and attach "
        "that instead: SecureSubmit can clean JPEG and PNG."
    ),
    N_(
        "SecureSubmit cannot remove the metadata of camera RAW files. They contain the "
        "camera's serial number and settings, and often the GPS position. Convert the photo "
        "to JPEG or TIFF and attach that instead."
    ),
    N_(
        "SecureSubmit does not clean GIF images; they can contain comments and XMP data with "
        "names. Convert the image to PNG and attach that instead."
    ),
    N_(
        "SecureSubmit cannot remove the metadata of videos. Videos from phones and cameras "
        "usually record the GPS position, the device model and the time of recording. Attach "
        "this video only if that cannot identify you or a source."
    ),
    N_(
        "SecureSubmit cannot remove the metadata of audio recordings. They may contain the "
        "recording device's name, the time, and sometimes the place or the author's name. "
        "Attach this recording only if that cannot identify you or a source."
    ),
    N_(
        "This is an old-format Office file (.doc, .xls, .ppt) or a password-protected one. "
        "SecureSubmit cannot remove its metadata: it usually contains the author's name, the "
        "company, the name of the last person who saved it, and sometimes file paths from "
        "their computer. Save it as .docx, .xlsx or .pptx without a password and attach that."
    ),
    N_(
        "SecureSubmit does not check or clean the files inside archives (ZIP, EPUB). Any "
        "photo or document inside keeps its metadata, such as GPS positions or author names. "
        "Attach the files one by one instead, so that each can be cleaned."
    ),
    N_(
        "SecureSubmit does not know this kind of Office file, so it cannot remove its "
        "metadata (author, company, editing times). Save it as .docx, .xlsx, .pptx or "
        "OpenDocument and attach that instead."
    ),
    N_(
        "SecureSubmit does not recognise this kind of file, so it cannot check it for hidden "
        "metadata. Attach it only if you know it contains nothing that could identify you or "
        "a source."
    ),
    N_(
        "SecureSubmit will not remove everything identifying from this file (see the list of "
        "what remains). Remove it in the program that made the file, then attach it again."
    ),
    # sealing, bundles and the inbox (core.service, core.exchange, core.bundle, core.inbox)
    N_(
        "the bundle could not be opened: it is not encrypted to your key, or it was altered "
        "or cut short"
    ),
    N_(
        "if you expect bundles from this person, compare this fingerprint with them by phone "
        "or in person, add their identity card, and import the bundle again"
    ),
    N_(
        "a report inside the bundle was sealed by someone other than the bundle's sender; "
        "the bundle was refused"
    ),
    N_("a report inside the bundle does not match its manifest entry"),
    N_("the bundle is empty: it holds no container"),
    N_("the bundle has extra data after its end record: it was altered"),
    N_("this is not a SecureSubmit bundle: its version line is missing"),
    N_("audit log: the bundle carries no checkpoint of the sender's log"),
    N_("audit log: the sender's log key changed; its history cannot be compared"),
    N_("audit log FORKED: same size as before, different history"),
    N_("audit log FORKED: the new checkpoint is not an extension of the old one"),
    N_("the sealed copy was deleted after export; only the receipt is kept"),
    N_("the sealed copy does not match its receipt"),
    N_("seal a report to this partner first, or name reports with --reports"),
    N_("a report must be sealed to at least one partner"),
    N_("a recipient is listed twice (or you listed yourself as a partner)"),
    N_(
        "These export files are PLAINTEXT. Anyone who can read this disk can read them. "
        "Keep them on an encrypted disk, share them only over a safe channel, and delete them "
        "when you no longer need them."
    ),
    N_("attachments were not included (no attachment reader was given)"),
    N_(
        "attachments are copied as they are: redaction does not reach inside photos, "
        "documents or recordings"
    ),
    N_("a tag cannot be empty"),
    N_("a tag is at most 100 characters"),
    N_("Uwazi and spreadsheets split lists of tags on '|' and ';'"),
    N_("a note cannot be empty"),
    N_("a note cannot contain control characters"),
    N_("a report cannot be a duplicate of itself"),
    N_("give at least one word to search for"),
    N_("the search is too long (at most 1000 characters)"),
    N_("give at least 4 characters"),
    N_("give more characters"),
)

# Core messages that carry values. Each pattern matches the whole English message; its named
# groups fill the placeholders of the msgid, which in English gives back the same text. A
# message no pattern matches is shown as the core wrote it.
CORE_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    (
        re.compile(r"(?P<path>.+) already exists; refusing to overwrite it"),
        N_("{path} already exists; refusing to overwrite it"),
    ),
    (
        re.compile(r"refusing to write through a symbolic link: (?P<path>.+)"),
        N_("refusing to write through a symbolic link: {path}"),
    ),
    (
        re.compile(
            r"the fingerprint you entered does not match this card \(group (?P<group>[1-8]) of 8 "
            r"differs\)"
        ),
        N_("the fingerprint you entered does not match this card (group {group} of 8 differs)"),
    ),
    (
        re.compile(
            r"the fingerprint you entered does not match this card \(groups (?P<groups>[1-8, ]+) "
            r"of 8 differ\)"
        ),
        N_("the fingerprint you entered does not match this card (groups {groups} of 8 differ)"),
    ),
    (
        re.compile(
            r"the fingerprint has (?P<count>[0-9]+) letters and digits; it should have 32 "
            r"\(8 groups of 4\)"
        ),
        N_("the fingerprint has {count} letters and digits; it should have 32 (8 groups of 4)"),
    ),
    (
        re.compile(
            r"the fingerprint contains the non-Latin letter (?P<letter>.+); fingerprints use only "
            r"the Latin letters A to Z and the digits 2 to 7 \(switch the keyboard to a Latin "
            r"layout\)"
        ),
        N_(
            "the fingerprint contains the non-Latin letter {letter}; fingerprints use only the "
            "Latin letters A to Z and the digits 2 to 7 (switch the keyboard to a Latin layout)"
        ),
    ),
    (
        re.compile(
            r"the fingerprint contains (?P<char>.+), which fingerprints never use \(they use only "
            r"the letters A to Z and the digits 2 to 7\)"
        ),
        N_(
            "the fingerprint contains {char}, which fingerprints never use (they use only the "
            "letters A to Z and the digits 2 to 7)"
        ),
    ),
    (
        re.compile(r"the card of (?P<name>.+) expired on (?P<time>[0-9TZ:-]+)"),
        N_("the card of {name} expired on {time}"),
    ),
    (
        re.compile(
            r"the card of (?P<name>.+) was made on (?P<time>[0-9TZ:-]+), which is in the future "
            r"by this computer's clock"
        ),
        N_(
            "the card of {name} was made on {time}, which is in the future by this computer's clock"
        ),
    ),
    (
        re.compile(r"(?P<name>.+) is already one of your partners with this key"),
        N_("{name} is already one of your partners with this key"),
    ),
    (re.compile(r"no such file: (?P<path>.+)"), N_("no such file: {path}")),
    (
        re.compile(r"report (?P<id>[0-9a-f]+) is (?P<status>[a-z]+); only drafts can change"),
        N_("report {id} is {status}; only drafts can change"),
    ),
    # hidden metadata found in photos (core.scrub)
    (
        re.compile(r"GPS position (?P<lat>[0-9.]+) (?P<ns>[NS]) (?P<lon>[0-9.]+) (?P<ew>[EW])"),
        N_("GPS position {lat} {ns} {lon} {ew}"),
    ),
    (re.compile(r"GPS altitude (?P<metres>-?[0-9]+) m"), N_("GPS altitude {metres} m")),
    (
        re.compile(r"camera: (?P<camera>.+) serial (?P<serial>.+)"),
        N_("camera: {camera} serial {serial}"),
    ),
    (re.compile(r"camera: (?P<camera>(?:(?! serial ).)+)"), N_("camera: {camera}")),
    (re.compile(r"camera serial number: (?P<serial>.+)"), N_("camera serial number: {serial}")),
    (re.compile(r"lens: (?P<lens>.+)"), N_("lens: {lens}")),
    (re.compile(r"author: (?P<name>.+)"), N_("author: {name}")),
    (re.compile(r"comment: (?P<comment>.+)"), N_("comment: {comment}")),
    (re.compile(r"date and time: (?P<time>.+)"), N_("date and time: {time}")),
    # audit problems (core.audit.verify_vault)
    (re.compile(r"event (?P<seq>[0-9]+) missing"), N_("event {seq} missing")),
    (
        re.compile(r"events (?P<first>[0-9]+)–(?P<last>[0-9]+) missing"),
        N_("events {first}–{last} missing"),
    ),
    (re.compile(r"event (?P<seq>[0-9]+) is malformed"), N_("event {seq} is malformed")),
    (
        re.compile(r"event (?P<seq>[0-9]+) was moved \(it says it is event (?P<said>[0-9]+)\)"),
        N_("event {seq} was moved (it says it is event {said})"),
    ),
    (
        re.compile(r"event (?P<seq>[0-9]+)'s details were altered"),
        N_("event {seq}'s details were altered"),
    ),
    (
        re.compile(r"(?P<table>objects|chunks) row (?P<row>[0-9a-f]+…) is not in the log"),
        N_("{table} row {row} is not in the log"),
    ),
    (
        re.compile(r"(?P<table>objects|chunks) row (?P<row>[0-9a-f]+…) was altered"),
        N_("{table} row {row} was altered"),
    ),
    (
        re.compile(
            r"(?P<table>objects|chunks) row (?P<row>[0-9a-f]+…) was deleted outside the log"
        ),
        N_("{table} row {row} was deleted outside the log"),
    ),
    (
        re.compile(
            r"events after (?P<size>[0-9]+) are missing \(the signed checkpoint covers "
            r"(?P<signed>[0-9]+)\)"
        ),
        N_("events after {size} are missing (the signed checkpoint covers {signed})"),
    ),
    (
        re.compile(r"the log has (?P<count>[0-9]+) event\(s\) no checkpoint signs"),
        N_("the log has {count} event(s) no checkpoint signs"),
    ),
    (
        re.compile(
            r"rolled back: a kept checkpoint covers (?P<kept>[0-9,]+) events, the vault has only "
            r"(?P<size>[0-9,]+)"
        ),
        N_("rolled back: a kept checkpoint covers {kept} events, the vault has only {size}"),
    ),
    (
        re.compile(
            r"fork: the vault's first (?P<size>[0-9,]+) events differ from a kept checkpoint"
        ),
        N_("fork: the vault's first {size} events differ from a kept checkpoint"),
    ),
    (
        re.compile(r"a given checkpoint is not from this vault's log key \((?P<why>.+)\)"),
        N_("a given checkpoint is not from this vault's log key ({why})"),
    ),
    (
        re.compile(r"the vault's checkpoint does not verify \((?P<why>.+)\)"),
        N_("the vault's checkpoint does not verify ({why})"),
    ),
    # sealing and bundles (core.service, core.exchange, core.bundle)
    (
        re.compile(r"fill in the required fields before sealing: (?P<fields>.+)"),
        N_("fill in the required fields before sealing: {fields}"),
    ),
    (
        re.compile(r"there are no sealed reports for (?P<name>.+) that were not sent yet"),
        N_("there are no sealed reports for {name} that were not sent yet"),
    ),
    (
        re.compile(
            r"unknown sender (?P<fingerprint>[A-Z2-7 ]+): no partner with this fingerprint is "
            r"known"
        ),
        N_("unknown sender {fingerprint}: no partner with this fingerprint is known"),
    ),
    (
        re.compile(r"cannot read (?P<path>.+): (?P<reason>[^:]+)"),
        N_("cannot read {path}: {reason}"),
    ),
    (
        re.compile(r"bundle (?P<n>[0-9]+), the first from this sender"),
        N_("bundle {n}, the first from this sender"),
    ),
    (
        re.compile(r"bundle (?P<n>[0-9]+), the next from this sender"),
        N_("bundle {n}, the next from this sender"),
    ),
    (
        re.compile(r"bundle (?P<n>[0-9]+) was already imported; nothing changed"),
        N_("bundle {n} was already imported; nothing changed"),
    ),
    (
        re.compile(
            r"bundle (?P<n>[0-9]+) is the first to arrive from this sender; bundle "
            r"(?P<missing>[0-9]+) from this sender is missing"
        ),
        N_("bundle {n} is the first to arrive from this sender; bundle {missing} is missing"),
    ),
    (
        re.compile(
            r"bundle (?P<n>[0-9]+) is the first to arrive from this sender; bundles "
            r"(?P<first>[0-9]+) to (?P<last>[0-9]+) from this sender are missing"
        ),
        N_(
            "bundle {n} is the first to arrive from this sender; bundles {first} to {last} "
            "are missing"
        ),
    ),
    (
        re.compile(
            r"bundle (?P<n>[0-9]+) arrived; bundle (?P<missing>[0-9]+) from this sender is "
            r"missing"
        ),
        N_("bundle {n} arrived; bundle {missing} from this sender is missing"),
    ),
    (
        re.compile(
            r"bundle (?P<n>[0-9]+) arrived; bundles (?P<first>[0-9]+) to (?P<last>[0-9]+) from "
            r"this sender are missing"
        ),
        N_("bundle {n} arrived; bundles {first} to {last} from this sender are missing"),
    ),
    (
        re.compile(
            r"bundle (?P<n>[0-9]+) is older than bundle (?P<newest>[0-9]+), the newest already "
            r"imported from this sender: it arrived out of order"
        ),
        N_(
            "bundle {n} is older than bundle {newest}, the newest already imported from this "
            "sender: it arrived out of order"
        ),
    ),
    (
        re.compile(
            r"bundle (?P<n>[0-9]+) differs from the bundle (?P=n) already imported from this "
            r"sender"
        ),
        N_("bundle {n} differs from the bundle {n} already imported from this sender"),
    ),
    (
        re.compile(
            r"bundle (?P<n>[0-9]+) does not follow the bundle (?P<before>[0-9]+) already "
            r"imported from this sender"
        ),
        N_("bundle {n} does not follow the bundle {before} already imported from this sender"),
    ),
    (
        re.compile(
            r"audit log ROLLED BACK: the sender's log has (?P<size>[0-9,]+) events, "
            r"(?P<old>[0-9,]+) were seen before \(restored from an older copy\?\)"
        ),
        N_(
            "audit log ROLLED BACK: the sender's log has {size} events, {old} were seen "
            "before (restored from an older copy?)"
        ),
    ),
    (
        re.compile(
            r"audit log: no consistency proof from the (?P<old>[0-9,]+) events seen before; "
            r"the history may have been rewritten"
        ),
        N_(
            "audit log: no consistency proof from the {old} events seen before; the history "
            "may have been rewritten"
        ),
    ),
    # the coordinator's workspace (core.inbox)
    (
        re.compile(
            r"(?P<count>[0-9,]+) exported report\(s\) name people marked sensitive, and their "
            r"names are in the files; export with redaction to leave them out"
        ),
        N_(
            "{count} exported report(s) name people marked sensitive, and their names are in "
            "the files; export with redaction to leave them out"
        ),
    ),
    (
        re.compile(
            r"(?P<path>.+) can be read by other users of this computer; export into a new "
            r"directory to have it created private \(0700\)"
        ),
        N_(
            "{path} can be read by other users of this computer; export into a new folder "
            "to have it created private (0700)"
        ),
    ),
    (
        re.compile(
            r"(?P<name>.+) is larger than 50 MB, the upload limit in Uwazi's documentation; "
            r"export fewer reports at a time, or without attachments"
        ),
        N_(
            "{name} is larger than 50 MB, the upload limit in Uwazi's documentation; export "
            "fewer reports at a time, or without attachments"
        ),
    ),
    (
        re.compile(r"a tag cannot contain '\|', ';' or control characters: (?P<tag>.+)"),
        N_("a tag cannot contain '|', ';' or control characters: {tag}"),
    ),
    (
        re.compile(r"report (?P<id>[0-9a-f]+) has no tag (?P<tag>.+)"),
        N_("report {id} has no tag {tag}"),
    ),
    (re.compile(r"no inbox report matches (?P<ref>.+)"), N_("no inbox report matches {ref}")),
    (re.compile(r"(?P<ref>'.*') is too short"), N_("{ref} is too short")),
    (
        re.compile(r"several inbox reports match (?P<ref>.+)"),
        N_("several inbox reports match {ref}"),
    ),
)

# Short forms for narrow table columns.
CATEGORY_SHORT = {
    "media": N_("Media"),
    "repression": N_("Repression"),
    "environment": N_("Environment"),
    "other": N_("Other"),
}

STATUS = {
    "draft": N_("draft"),
    "sealed": N_("sealed"),
    "exported": N_("exported"),
}

INBOX_STATUS = {
    "new": N_("new"),
    "reviewed": N_("reviewed"),
    "flagged": N_("flagged"),
    "verified": N_("verified"),
    "published": N_("published"),
}

REPORT_LANGUAGES = {
    "en": N_("English"),
    "ru": N_("Russian"),
    "kk": N_("Kazakh"),
    "ky": N_("Kyrgyz"),
    "tg": N_("Tajik"),
    "tk": N_("Turkmen"),
    "uz": N_("Uzbek"),
    "other": N_("Other language"),
}


def protection_text(encryption: str | None, signature: str) -> str:
    """How a sealed report or bundle is protected: its age layer and its signature, each
    "hybrid" (post-quantum) or "classical" (docs/spec/sealed-report.md §12)."""
    encrypted = {
        "hybrid": _("hybrid (ML-KEM-768 + X25519)"),
        "classical": _("classical only (X25519)"),
    }.get(encryption or "", "?")
    signed = {
        "hybrid": _("hybrid (ML-DSA-65 + Ed25519)"),
        "classical": _("classical only (Ed25519)"),
    }.get(signature, "?")
    return _("encryption {encryption}, signature {signature}").format(
        encryption=encrypted, signature=signed
    )


def category_label(category: str) -> str:
    return _(CATEGORIES[category]) if category in CATEGORIES else category


def category_short(category: str) -> str:
    return _(CATEGORY_SHORT[category]) if category in CATEGORY_SHORT else category


def country_label(country: str) -> str:
    return _(COUNTRIES[country]) if country in COUNTRIES else country


def status_label(status: str) -> str:
    return _(STATUS[status]) if status in STATUS else status


def inbox_status_label(status: str) -> str:
    """A review state of an inbox report (core.inbox.STATUSES)."""
    return _(INBOX_STATUS[status]) if status in INBOX_STATUS else status


def report_language_label(code: str) -> str:
    return _(REPORT_LANGUAGES[code]) if code in REPORT_LANGUAGES else code


def template_title(template_id: str) -> str:
    template = TEMPLATES.get(template_id)
    return _(template.title) if template else ""


def core_message(text: str) -> str:
    """A message of the core in the app's language: looked up whole, else by its pattern."""
    translated = _(text)
    if translated != text:
        return translated
    for pattern, msgid in CORE_PATTERNS:
        found = pattern.fullmatch(text)
        if found:
            return _(msgid).format(**found.groupdict())
    return text


def error_text(error: SecureSubmitError) -> tuple[str, str]:
    """The error's message and hint in the app's language (hint may be empty)."""
    message = core_message(str(error))
    hint = core_message(error.hint) if error.hint else ""
    return message[:1].upper() + message[1:], hint


def is_translated(message: str) -> bool:
    """Whether ``core_message`` has something better than the core's English to show."""
    return current_language() == "en" or core_message(message) != message


# --- labels for the core's words ------------------------------------------------------------

ROLES = {"reporter": N_("reporter"), "coordinator": N_("coordinator")}

PARTNER_STATUS = {
    "active": N_("active"),
    "expired": N_("expired"),
    "revoked": N_("revoked"),
    "test-only": N_("TEST ONLY"),
}

VERIFIED = {
    "typed": N_("fingerprint typed and matched"),
    "confirmed": N_("compared by phone or in person"),
    "trust-store": N_("from the shipped trust store, not compared"),
}


def role_label(role: str) -> str:
    return _(ROLES[role]) if role in ROLES else role


def partner_status_label(status: str) -> str:
    return _(PARTNER_STATUS[status]) if status in PARTNER_STATUS else status


def verified_label(how: str) -> str:
    return _(VERIFIED[how]) if how in VERIFIED else how


# --- numbers, sizes and dates in the app's language -----------------------------------------

_DECIMAL_COMMA = frozenset({"ru", "kk"})


def decimal(value: float, digits: int = 1) -> str:
    text = f"{value:,.{digits}f}" if digits else f"{round(value):,}"
    if current_language() in _DECIMAL_COMMA:
        return text.replace(",", "\xa0").replace(".", ",")
    return text


def whole(value: int) -> str:
    """An integer with thousands grouped as the language does (1,204 / 1 204)."""
    return decimal(value, 0)


def format_size(size: int) -> str:
    """Bytes as people read them: 512 bytes, 3.4 KiB, 12 MiB, 1.5 GiB."""
    if size < 1024:
        return ngettext("{n} byte", "{n} bytes", size).format(n=size)
    for unit in (N_("{n} KiB"), N_("{n} MiB"), N_("{n} GiB")):
        size_in_unit = size / 1024
        if size_in_unit < 1024 or unit == "{n} GiB":
            digits = 1 if size_in_unit < 100 else 0
            return _(unit).format(n=decimal(size_in_unit, digits))
        size = round(size_in_unit)
    raise AssertionError("unreachable")


_MONTHS = (
    N_("{day} January {year}"),
    N_("{day} February {year}"),
    N_("{day} March {year}"),
    N_("{day} April {year}"),
    N_("{day} May {year}"),
    N_("{day} June {year}"),
    N_("{day} July {year}"),
    N_("{day} August {year}"),
    N_("{day} September {year}"),
    N_("{day} October {year}"),
    N_("{day} November {year}"),
    N_("{day} December {year}"),
)

_MONTHS_SHORT = (
    N_("{day} Jan {year}"),
    N_("{day} Feb {year}"),
    N_("{day} Mar {year}"),
    N_("{day} Apr {year}"),
    N_("{day} May {year}"),
    N_("{day} Jun {year}"),
    N_("{day} Jul {year}"),
    N_("{day} Aug {year}"),
    N_("{day} Sep {year}"),
    N_("{day} Oct {year}"),
    N_("{day} Nov {year}"),
    N_("{day} Dec {year}"),
)


_MONTH_YEAR = (
    N_("Jan {year}"),
    N_("Feb {year}"),
    N_("Mar {year}"),
    N_("Apr {year}"),
    N_("May {year}"),
    N_("Jun {year}"),
    N_("Jul {year}"),
    N_("Aug {year}"),
    N_("Sep {year}"),
    N_("Oct {year}"),
    N_("Nov {year}"),
    N_("Dec {year}"),
)


def show_month(month: str) -> str:
    """A ``YYYY-MM`` month as a short label in the app's language: Mar 2026 / мар 2026."""
    try:
        year, number = int(month[:4]), int(month[5:7])
    except ValueError:
        return month
    if len(month) != 7 or not 1 <= number <= 12:
        return month
    return _(_MONTH_YEAR[number - 1]).format(year=year)


def show_date(moment: datetime, *, short: bool = False) -> str:
    """A day in the app's language: 23 November 2026 / 23 ноября 2026 г."""
    moment = moment.astimezone(UTC) if moment.tzinfo else moment
    months = _MONTHS_SHORT if short else _MONTHS
    return _(months[moment.month - 1]).format(day=moment.day, year=moment.year)


def show_datetime(moment: datetime, *, short: bool = False) -> str:
    """A moment in the app's language, in UTC as the vault stores it.

    ``short`` is for table columns whose heading says UTC: 23 Nov 2026 10:00.
    """
    moment = moment.astimezone(UTC) if moment.tzinfo else moment
    date, time = show_date(moment, short=short), f"{moment:%H:%M}"
    if short:
        return f"{date} {time}"
    return _("{date}, {time} UTC").format(date=date, time=time)


def parse_stamp(stamp: str) -> datetime | None:
    """The vault's time stamps (``2026-11-23T10:00:00Z``); None for anything else."""
    try:
        moment = datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%SZ")
    except ValueError:
        return None
    return moment.replace(tzinfo=UTC)


def show_stamp(stamp: str, *, short: bool = False) -> str:
    moment = parse_stamp(stamp)
    return show_datetime(moment, short=short) if moment else stamp

#!/bin/bash
# it_classify_e2e.sh: the classify stage end to end (issue 8), through Postfix with intake-milter,
# Redis, intake-worker and smtp-sink as the relay: routing rules, language and FAQ suggestions
# together (docs/rules.md, docs/templates.md, docs/classify.md).
#   1. the worker reads [worker] faq_directory at start: six entries of the collection support,
#      German and English (intakectl faq list); intakectl faq sync then finds all unchanged.
#   2. a German mail from the customer's domain: the rule routes it to case KUNDE-7 with priority
#      high and tags kunde and passwort; the ticket's language is de; intakectl ticket --json shows
#      case, priority, tags, language and the FAQ entry suggested (the German one, not the
#      English one on the same subject); the acknowledgement that reaches the relay is ack.de.txt
#      with the FAQ block: the entry's title and URL; the log names the suggestion.
#   3. an English mail that matches no FAQ entry: language en, no suggestion stored, and its
#      acknowledgement (ack.en.txt) has no FAQ block.
#   4. [mailbox] faq = a collection that holds no entry: a German mail on the same question gets
#      no suggestion (the collection limit).
#   5. a new file, a changed one and a deleted one, then SIGHUP: the worker's sync adds, updates
#      and removes; intakectl faq add (text on standard input) and faq remove ID, remove of an id
#      that is gone again fails.
. "$(dirname "$0")/../lib/harness.sh"
. "$(dirname "$0")/../lib/worker.sh"
h_init it_classify_e2e

C=$T/intake.conf
R=$T/rules.conf
F=$T/faq
mkdir -p "$F/support" "$F/other"
faq() {	# faq FILE TITLE URL LANGUAGE TEXT
    printf 'Title: %s\nURL: %s\nLanguage: %s\n\n%s\n' "$2" "$3" "$4" "$5" > "$F/support/$1"
}
faq passwort.txt "Wie setze ich mein Passwort zurück?" "https://help.example.test/de/passwort" de \
    "Wenn Sie Ihr Passwort vergessen haben, öffnen Sie die Anmeldeseite und wählen Sie 'Passwort vergessen'. Sie erhalten einen Link per E-Mail."
faq password.txt "How do I reset my password?" "https://help.example.test/en/password" en \
    "If you forgot your password, open the login page and choose 'Forgot password'. You receive a link by mail."
faq rechnung.txt "Wo finde ich meine Rechnung?" "https://help.example.test/de/rechnung" de \
    "Rechnungen stehen im Kundenkonto unter Abrechnung bereit."
faq invoice.txt "Where is my invoice?" "https://help.example.test/en/invoice" en \
    "Invoices are in your account under Billing."
faq lieferung.txt "Wann kommt meine Lieferung?" "https://help.example.test/de/lieferung" de \
    "Pakete sind zwei bis drei Werktage unterwegs; die Sendungsnummer steht in der Versandbestätigung."
faq delivery.txt "When does my parcel arrive?" "https://help.example.test/en/delivery" en \
    "Parcels take two to three working days; the tracking number is in the shipping confirmation."

{
    echo "[rule kunde]"
    echo "if = sender_domain equals kunde.test"
    echo "case = KUNDE-7"
    echo "priority = high"
    echo "tags = kunde, passwort"
} > "$R"

h_redis_start || exit 1
S=$(h_free_port)
h_sink_start "$S" "$T/sink" || exit 1
h_worker_conf "$C" "$S" "[worker]" "rules = $R" "faq_directory = $F" \
    "[mailbox support]" "faq = support" "[mailbox sales]" "faq = other"
h_milter_start "$C" || exit 1
P=$(h_free_port)
h_postfix_start back "$P" "smtpd_milters=unix:$T/milter.sock" || exit 1
h_worker_start "$C" || exit 1

body_of() {
    python3 -c 'import sys, email, email.policy
m = email.message_from_binary_file(open(sys.argv[1], "rb"), policy=email.policy.default)
print(m.get_body(("plain",)).get_content())' "$1"
}
ack_for() { h_sink_acks | awk -F'\t' -v n="$1" '$6 == n { print $1 }' | head -n1; }
number_of() { h_sql "$C" "SELECT number FROM tickets WHERE customer_address = '$1'"; }

# 1. the folder, read by the worker at start
h_wait_for "grep -q 'FAQ $F: 6 added, 0 updated, 0 unchanged, 0 removed, 0 failed' '$T/worker.log'" 30 \
    "1. the worker read the FAQ folder at start (log)"
h_assert_eq 6 "$(h_ctl "$C" --json faq list | jq '[.[] | select(.collection == "support")] | length')" \
    "1. intakectl faq list: six entries of collection support"
h_assert_eq "faq sync $F: 0 added, 0 updated, 6 unchanged, 0 removed, 0 failed" \
    "$(h_ctl "$C" faq sync)" "1. intakectl faq sync: all unchanged (idempotent)"

# 2. German, routed, with a FAQ suggestion
h_mail "$P" anna@kunde.test support@example.test "Passwort vergessen" \
    "Guten Tag, ich habe mein Passwort vergessen und kann mich nicht mehr anmelden. Können Sie mir bitte helfen?"
h_wait_for "h_worker_drained '$C' 1" 60 "2. one ticket"
A=$(number_of anna@kunde.test)
h_ctl "$C" --json ticket "$A" > "$T/ticket-a.json"
h_assert_eq "KUNDE-7|high|kunde,passwort|de" \
    "$(jq -r '[.case, .priority, .tags, .language] | join("|")' "$T/ticket-a.json")" \
    "2. intakectl ticket: case, priority and tags of the rule; language de"
h_assert_eq "Wie setze ich mein Passwort zurück?|https://help.example.test/de/passwort" \
    "$(jq -r '.faq[0] | [.title, .url] | join("|")' "$T/ticket-a.json")" \
    "2. intakectl ticket: the German FAQ entry suggested first"
h_assert_eq 0 "$(jq '[.faq[] | select(.title == "How do I reset my password?")] | length' "$T/ticket-a.json")" \
    "2. the English entry on the same question is not suggested for a German mail"
h_check "grep -q ': mailbox support: FAQ suggestions: #[0-9]* \"Wie setze ich mein Passwort zurück?\" (score ' '$T/worker.log'" \
    "2. the log names the suggestion with its queue id and score"
h_wait_for '[ -n "$(ack_for "$A")" ]' 30 "2. anna's acknowledgement reached the relay"
body_of "$(ack_for "$A")" > "$T/ack-a.txt"
h_check "grep -q '^##- Bitte schreiben Sie Ihre Antwort oberhalb dieser Zeile -##$' '$T/ack-a.txt' &&
    grep -q 'wird unter der Ticketnummer $A bearbeitet' '$T/ack-a.txt'" \
    "2. the acknowledgement is ack.de.txt"
h_check "grep -q '^Vielleicht hilft Ihnen eine dieser Antworten gleich weiter:$' '$T/ack-a.txt' &&
    grep -qF '  - Wie setze ich mein Passwort zurück?' '$T/ack-a.txt' &&
    grep -qF '    https://help.example.test/de/passwort' '$T/ack-a.txt'" \
    "2. the acknowledgement has the FAQ block with the entry's title and URL"

# 3. English, no FAQ match
h_mail "$P" bob@example.test support@example.test "Compliment" \
    "Hello, a quick compliment from a happy customer: the redesigned logo looks great. Cheers, Bob"
h_wait_for "h_worker_drained '$C' 2" 60 "3. a second ticket"
B=$(number_of bob@example.test)
h_ctl "$C" --json ticket "$B" > "$T/ticket-b.json"
h_assert_eq "en|0" "$(jq -r '[.language, (.faq | length)] | join("|")' "$T/ticket-b.json")" \
    "3. English, no FAQ entry suggested"
h_wait_for '[ -n "$(ack_for "$B")" ]' 30 "3. bob's acknowledgement reached the relay"
body_of "$(ack_for "$B")" > "$T/ack-b.txt"
h_check "grep -q 'filed as ticket $B' '$T/ack-b.txt'" "3. the acknowledgement is ack.en.txt"
h_assert_eq 0 "$(grep -c 'Perhaps one of these answers\|help.example.test' "$T/ack-b.txt")" \
    "3. no FAQ block in it"

# 4. the collection limit: sales suggests from collection other, which is empty
h_mail "$P" carl@example.test sales@example.test "Passwort vergessen" \
    "Guten Tag, ich habe mein Passwort vergessen und kann mich nicht mehr anmelden. Können Sie mir bitte helfen?"
h_wait_for "h_worker_drained '$C' 3" 60 "4. a third ticket"
h_assert_eq "de|0" \
    "$(h_ctl "$C" --json ticket "$(number_of carl@example.test)" | jq -r '[.language, (.faq | length)] | join("|")')" \
    "4. [mailbox sales] faq = other: no suggestion from collection support"

# 5. the folder changes, SIGHUP; by hand
faq versand.txt "Was kostet der Versand?" "https://help.example.test/de/versand" de \
    "Der Versand innerhalb Deutschlands ist ab 50 Euro kostenlos."
faq rechnung.txt "Wo finde ich meine Rechnungen?" "https://help.example.test/de/rechnung" de \
    "Alle Rechnungen stehen im Kundenkonto unter Abrechnung bereit."
rm "$F/support/delivery.txt"
kill -HUP "$H_WORKER_PID"
h_wait_for "grep -q 'FAQ $F: 1 added, 1 updated, 4 unchanged, 1 removed, 0 failed' '$T/worker.log'" 30 \
    "5. SIGHUP: the worker's sync added, updated and removed one entry each"
h_assert_eq "Was kostet der Versand?|Wo finde ich meine Rechnungen?|0" \
    "$(h_ctl "$C" --json faq list | jq -r '[(.[] | select(.source_path | endswith("versand.txt")) | .title),
	(.[] | select(.source_path | endswith("rechnung.txt")) | .title),
	([.[] | select(.source_path | endswith("delivery.txt"))] | length)] | join("|")')" \
    "5. intakectl faq list: the new entry, the changed title, the deleted file's entry gone"
ID=$(printf 'Our office is closed on public holidays.\n' |
    h_ctl "$C" faq add --collection other --title "Opening hours" --url https://example.test/hours -)
h_assert_eq "other|Opening hours|https://example.test/hours|null" \
    "$(h_ctl "$C" --json faq list | jq -r --argjson id "${ID:-0}" '.[] | select(.id == $id) |
	[.collection, .title, .url, (.source_path | tostring)] | join("|")')" \
    "5. intakectl faq add: an entry by hand, its text from standard input"
h_check "h_ctl '$C' faq remove '$ID'" "5. intakectl faq remove ID"
h_check "! h_ctl '$C' faq remove '$ID' 2> '$T/remove.err' && grep -q 'no FAQ entry $ID' '$T/remove.err'" \
    "5. removing it again fails, naming the id"

h_worker_stop
h_milter_stop

#!/bin/bash
# it_worker_lang.sh: the language of a mail chooses its acknowledgement, and a follow-up is stored
# as what the customer wrote now; through Postfix with intake-milter. The mailbox's language is
# en (the default), [worker] languages the default.
#   1. the demo's German mail ("Rechnung 2026-117 fehlt"): ticket language de, the acknowledgement
#      that reaches the relay is ack.de.txt (its German marker line and text), the log says why.
#   2. a French mail: fr, ack.fr.txt, with the HTML alternative ack.fr.html (added to a copy of
#      conf/templates): multipart/alternative, text then HTML. An English one: en, ack.en.txt,
#      text only (no ack.en.html).
#   3. a short German "Danke!" (too short to tell): the mailbox's en.
#   4. alice answers her German acknowledgement above the quoted ack (Thunderbird's "Am ...
#      schrieb ...:" and "> " lines, our marker among them) and a signature: the message's body is
#      her new text, its full_text all of it; intakectl ticket shows both.
#   5. an answer in English above a quoted German acknowledgement is English: the quote does not
#      decide (the ticket keeps de; the follow-up's text is English).
. "$(dirname "$0")/../lib/harness.sh"
. "$(dirname "$0")/../lib/worker.sh"
h_init it_worker_lang

C=$T/intake.conf
h_redis_start || exit 1
S=$(h_free_port)
h_sink_start "$S" "$T/sink" || exit 1
mkdir -p "$T/tpl" && cp "$H_ROOT"/conf/templates/* "$T/tpl/"
printf '<p>Bonjour {{customer_name}}, ticket <b>{{ticket_number}}</b>.</p>\n' > "$T/tpl/ack.fr.html"
h_worker_conf "$C" "$S"
sed -i "s|^templates = .*|templates = $T/tpl|" "$C"
h_milter_start "$C" || exit 1
P=$(h_free_port)
h_postfix_start back "$P" "smtpd_milters=unix:$T/milter.sock" || exit 1
h_worker_start "$C" || exit 1

# body_of FILE: the decoded text/plain body of a message file (the ack is UTF-8, QP or base64).
body_of() {
    python3 -c 'import sys, email, email.policy
m = email.message_from_binary_file(open(sys.argv[1], "rb"), policy=email.policy.default)
print(m.get_body(("plain",)).get_content())' "$1"
}
# ack_for NUMBER: the file of the acknowledgement of ticket NUMBER that reached the relay.
ack_for() { h_sink_acks | awk -F'\t' -v n="$1" '$6 == n { print $1 }' | head -n1; }
lang_of() { h_sql "$C" "SELECT language FROM tickets WHERE number = '$1'"; }

# 1. The demo's German mail (tests/lib/demo.sh: text and attachment), to a mailbox whose language
#    is en.
printf 'Beleg 2026-117\nBetrag: 117,00 EUR\n' > "$T/beleg.txt"
h_mail "$P" bob@example.test support@example.test "Rechnung 2026-117 fehlt" \
    "Guten Tag, mir fehlt die Rechnung 2026-117. Anbei der Beleg." \
    --attach-type text/plain --attach-name beleg.txt --attach @"$T/beleg.txt"
h_wait_for "h_worker_drained '$C' 1" 30 "bob's mail: one ticket"
B=$(h_sql "$C" "SELECT number FROM tickets WHERE customer_address = 'bob@example.test'")
h_assert_eq de "$(lang_of "$B")" "the German mail's ticket is filed de (mailbox language en)"
h_assert_eq 1 "$(grep -c "language de detected (mailbox language en)" "$T/worker.log")" \
    "worker log: language de detected, and the mailbox's"
h_wait_for '[ -n "$(ack_for "$B")" ]' 30 "bob's acknowledgement reached the relay"
body_of "$(ack_for "$B")" > "$T/ack-b.txt"
grep -q '^##- Bitte schreiben Sie Ihre Antwort oberhalb dieser Zeile -##$' "$T/ack-b.txt" &&
    grep -q "wird unter der Ticketnummer $B bearbeitet" "$T/ack-b.txt" &&
    h_pass "bob's acknowledgement is ack.de.txt" || h_fail "bob's acknowledgement is not German: $(head -5 "$T/ack-b.txt")"
h_assert_eq 0 "$(grep -c 'thank you for writing' "$T/ack-b.txt")" "no English in bob's acknowledgement"

# 2. French and English.
h_mail "$P" claire@example.test support@example.test "Facture manquante" \
    "Bonjour, nous n'avons toujours pas reçu la facture du mois dernier. Pourriez-vous nous la renvoyer ? Merci."
h_mail "$P" carol@example.test support@example.test "Password reset" \
    "Hi, I cannot log in since this morning. Could you please reset my password? Thanks."
h_wait_for "h_worker_drained '$C' 3" 30 "three tickets"
F=$(h_sql "$C" "SELECT number FROM tickets WHERE customer_address = 'claire@example.test'")
E=$(h_sql "$C" "SELECT number FROM tickets WHERE customer_address = 'carol@example.test'")
h_assert_eq fr "$(lang_of "$F")" "the French mail is filed fr"
h_assert_eq en "$(lang_of "$E")" "the English mail is filed en"
h_wait_for '[ -n "$(ack_for "$F")" ] && [ -n "$(ack_for "$E")" ]' 30 "both acknowledgements reached the relay"
body_of "$(ack_for "$F")" | grep -q "enregistré sous le numéro de ticket $F" &&
    h_pass "claire's acknowledgement is ack.fr.txt" || h_fail "claire's acknowledgement is not French"
h_assert_eq "multipart/alternative text/plain text/html|<p>Bonjour claire@example.test, ticket <b>$F</b>.</p>" \
    "$(python3 -c 'import sys, email, email.policy
m = email.message_from_binary_file(open(sys.argv[1], "rb"), policy=email.policy.default)
print(" ".join(p.get_content_type() for p in m.walk()) + "|" + m.get_body(("html",)).get_content().strip())' "$(ack_for "$F")")" \
    "claire's acknowledgement has the HTML alternative of ack.fr.html, after the text"
h_assert_eq "text/plain" "$(python3 -c 'import sys, email
print(email.message_from_binary_file(open(sys.argv[1], "rb")).get_content_type())' "$(ack_for "$E")")" \
    "carol's acknowledgement is text only (no ack.en.html)"
body_of "$(ack_for "$E")" | grep -q "filed as ticket $E" &&
    h_pass "carol's acknowledgement is ack.en.txt" || h_fail "carol's acknowledgement is not English"

# 3. Too short to tell: the mailbox's language.
h_mail "$P" dora@example.test support@example.test "Rechnung" "Danke!"
h_wait_for "h_worker_drained '$C' 4" 30 "four tickets"
h_assert_eq en "$(lang_of "$(h_sql "$C" "SELECT number FROM tickets WHERE customer_address = 'dora@example.test'")")" \
    "a text too short to tell: the mailbox's language (en)"

# 4. bob answers above his quoted acknowledgement, with a signature.
NEW="Die Rechnung ist jetzt da, vielen Dank. Der Betrag stimmt aber nicht."
{
    printf '%s\n\n-- \nBob Beispiel\nBeispiel GmbH\n\n' "$NEW"
    printf 'Am 01.12.26 um 10:00 schrieb Example Support:\n'
    sed 's/^/> /' "$T/ack-b.txt"
} > "$T/reply-b.txt"
h_mail "$P" bob@example.test support@example.test "Re: [#$B] Rechnung 2026-117 fehlt" "$(cat "$T/reply-b.txt")"
h_wait_for "[ \"\$(h_ticket_in_count '$C' '$B')\" -eq 2 ] && [ \"\$(h_xlen)\" -eq 0 ] && [ \"\$(h_pending_count)\" -eq 0 ]" 30 \
    "bob's answer lands on his ticket"
h_ctl "$C" --json ticket "$B" > "$T/ticket-b.json"
h_assert_eq "$NEW" "$(jq -r '[.messages[] | select(.direction == "in")][1].body' "$T/ticket-b.json")" \
    "the follow-up's body is what bob wrote now (no signature, no quote)"
jq -r '[.messages[] | select(.direction == "in")][1].full_text' "$T/ticket-b.json" > "$T/full-b.txt"
grep -q '^Am 01.12.26 um 10:00 schrieb Example Support:$' "$T/full-b.txt" &&
    grep -q "^> ##- Bitte schreiben" "$T/full-b.txt" && grep -q '^Bob Beispiel$' "$T/full-b.txt" &&
    h_pass "its full_text keeps the signature and the quoted acknowledgement" ||
    h_fail "full_text lacks the quote or signature: $(head -c 300 "$T/full-b.txt")"
h_assert_eq null "$(jq -r '[.messages[] | select(.direction == "in")][0].full_text' "$T/ticket-b.json")" \
    "the first mail of a ticket: body is all of it (no full_text)"

# 5. carol answers in English above a quoted German text: English.
h_mail "$P" erik@example.test support@example.test "Frage" \
    "Hello, I have a question about my order from last week. It has not arrived yet. $(printf '\n\nOn Tue, 1 Dec 2026 at 10:00, Shop <shop@example.test> wrote:\n> Guten Tag, vielen Dank für Ihre Bestellung. Sie wird in den nächsten Tagen versandt.\n> Mit freundlichen Grüßen, Ihr Shop-Team der Beispiel GmbH in Berlin\n')"
h_wait_for "h_worker_drained '$C' 5" 30 "five tickets"
h_assert_eq en "$(lang_of "$(h_sql "$C" "SELECT number FROM tickets WHERE customer_address = 'erik@example.test'")")" \
    "English above a quoted German text: en"

h_worker_stop
h_milter_stop

#!/bin/bash
# it_worker_tags.sh: keyword tags ([worker] tags) and sentiment (the lexicon make deps installs)
# end to end, through Postfix with intake-milter, Redis, intake-worker and smtp-sink as the relay
# (docs/classify.md).
#   1. an angry mail about an invoice and a refund: the ticket gets the keyword tags, merged with
#      a routing rule's tag, and a negative sentiment; intakectl ticket --json and tickets --json
#      show them; the log says the tags with their counts and the sentiment with its score; the
#      acknowledgement's {{sentiment}} says negative.
#   2. a happy follow-up about the password, quoting our acknowledgement: its keyword tag is
#      added (none removed), the quoted text tags nothing, the ticket's sentiment becomes positive.
#   3. a tags file with an error: intake-worker -t names file, line, tag and key and exits 1;
#      SIGHUP keeps the tags in force.
#   4. no lexicon (sentiment_lexicons names an empty directory), SIGHUP: a warning, the next
#      ticket has its tags and no sentiment; no mail refused.
. "$(dirname "$0")/../lib/harness.sh"
. "$(dirname "$0")/../lib/worker.sh"
h_init it_worker_tags

C=$T/intake.conf
G=$T/tags.conf
R=$T/rules.conf
cp -r "$H_ROOT/conf/templates" "$T/templates"
printf '\nTone: {{sentiment}}\n' >> "$T/templates/ack.en.txt"
cat > "$G" <<'TAGS'
# tags of it_worker_tags
[tag billing]
keywords = invoice, payment, "credit card"

[tag refund]
keywords = money back, chargeback

[tag login]
keywords = password, sign in

[tag shipping]
keywords = parcel, delivery
TAGS
printf '[rule all]\nif = subject regex .\ntags = support, billing\n' > "$R"

h_redis_start || exit 1
S=$(h_free_port)
h_sink_start "$S" "$T/sink" || exit 1
h_worker_conf "$C" "$S" "[worker]" "tags = $G" "rules = $R" "languages = en" \
    "[store]" "templates = $T/templates"
h_milter_start "$C" || exit 1
P=$(h_free_port)
h_postfix_start back "$P" "smtpd_milters=unix:$T/milter.sock" || exit 1
h_worker_start "$C" || exit 1

# 1. keyword tags and a negative sentiment
h_mail "$P" bob@acme.test support@example.test "Invoice wrong" \
    "Your invoice is wrong again. This is terrible, I am angry and disappointed. I want my money back, the invoice total is a disaster."
h_wait_for "h_worker_drained '$C' 1" 60 "1. one ticket"
N1=$(h_sql "$C" "SELECT number FROM tickets WHERE title = 'Invoice wrong'")
h_ctl "$C" --json ticket "$N1" > "$T/t1.json"
h_assert_eq "billing,refund,support" "$(jq -r .tags "$T/t1.json")" \
    "1. keyword tags billing and refund, merged with the rule's support and billing, once each"
h_assert_eq "negative" "$(jq -r .sentiment "$T/t1.json")" "1. sentiment negative"
h_check "jq -e '.sentiment_score < -0.1' '$T/t1.json' >/dev/null" "1. with a score below -0.1"
h_assert_eq "negative" \
    "$(h_ctl "$C" --json tickets | jq -r --arg n "$N1" '.[] | select(.number == $n) | .sentiment')" \
    "1. intakectl tickets --json shows the sentiment"
h_check "grep -qF 'mailbox support: keyword tags billing=3 refund=1' '$T/worker.log'" \
    "1. the log says the tags with their counts, most first"
h_check "grep -q 'mailbox support: sentiment negative -0\.[0-9]* (valence -[0-9]* in [0-9]* words' '$T/worker.log'" \
    "1. the log says the sentiment and its score"
h_check "h_ctl '$C' ticket '$N1' | grep -q '^sentiment negative (-0\.'" "1. intakectl ticket shows it"
h_wait_for '[ "$(h_sink_count)" -ge 1 ]' 30 "1. the acknowledgement at the relay"
h_check "h_sink_files | xargs grep -l 'Tone: negative' | grep -q ." \
    "1. {{sentiment}} in the acknowledgement says negative"

# 2. a happy follow-up, quoting our acknowledgement (which says "invoice")
h_mail "$P" bob@acme.test support@example.test "Re: [#$N1] Invoice wrong" \
    "Thank you, great help, the new password works perfectly. Excellent!

> Your invoice is wrong again. The parcel delivery.
> delivery parcel parcel"
h_wait_for "[ \"\$(h_ticket_in_count '$C' '$N1')\" = 2 ] && h_worker_drained '$C' 1" 60 \
    "2. the follow-up is the second message of $N1"
h_ctl "$C" --json ticket "$N1" > "$T/t2.json"
h_assert_eq "billing,login,refund,support" "$(jq -r .tags "$T/t2.json")" \
    "2. login added, nothing removed, nothing from the quoted lines (no shipping)"
h_assert_eq "positive" "$(jq -r .sentiment "$T/t2.json")" \
    "2. the ticket's sentiment is its newest mail's: positive"

# 3. a bad tags file: -t, then SIGHUP keeps the tags in force
cp "$G" "$T/tags.good"
printf '[tag a]\nkeywords = x\n[tag b]\nkeywords = y, x\n' > "$G"
"$INTAKE_BIN/intake-worker" -t -c "$C" > "$T/t.out" 2>&1
h_assert_eq 1 "$?" "3. intake-worker -t: exit 1 on a bad tags file"
h_check "grep -qF \"$G:4: [tag b] key 'keywords': 'x' is a keyword of [tag a] already\" '$T/t.out'" \
    "3. -t names file, line, tag and key"
kill -HUP "$H_WORKER_PID"
h_wait_for "grep -q 'SIGHUP: .*tags .* has errors: the configuration, rules and tags in force are kept' '$T/worker.log'" 20 \
    "3. SIGHUP: the error is logged, the old tags kept"
h_mail "$P" carol@other.test support@example.test "Parcel late" "Where is my parcel?"
h_wait_for "h_worker_drained '$C' 2" 60 "3. a second ticket"
h_assert_eq "billing,shipping,support" \
    "$(h_ctl "$C" --json ticket "$(h_sql "$C" "SELECT number FROM tickets WHERE title = 'Parcel late'")" | jq -r .tags)" \
    "3. the tags in force still apply"

# 4. no lexicon: a warning, no sentiment, the mail ticketed all the same
cp "$T/tags.good" "$G"
mkdir "$T/none"
sed -i "s#^tags = .*#&\nsentiment_lexicons = $T/none#" "$C"
kill -HUP "$H_WORKER_PID"
h_wait_for "[ \"\$(grep -c 'SIGHUP: configuration .* read again' '$T/worker.log')\" = 1 ]" 20 \
    "4. SIGHUP with the lexicons gone"
h_check "grep -qF \"[worker] sentiment_lexicons: no lexicon (LANG/labels.json) in $T/none: run make deps; tickets get no sentiment\" '$T/worker.log'" \
    "4. a warning names the key and the directory"
h_mail "$P" dan@other.test support@example.test "Terrible invoice" "This invoice is terrible."
h_wait_for "h_worker_drained '$C' 3" 60 "4. a third ticket"
N3=$(h_sql "$C" "SELECT number FROM tickets WHERE title = 'Terrible invoice'")
h_assert_eq "billing,support null" "$(h_ctl "$C" --json ticket "$N3" | jq -r '"\(.tags) \(.sentiment)"')" \
    "4. tags, no sentiment"
h_assert_eq 0 "$(h_pending_count)" "stream: nothing pending"

h_worker_stop
h_milter_stop

#!/bin/bash
# it_pg_classify.sh: the store operations the PostgreSQL store has as SQLite's (branch pgparity):
# FAQ, the category model, projects and tasks, kept-apart mail, end to end through Postfix with
# intake-milter, Redis and one intake-worker on a private cluster (tests/lib/pg.sh).
#   0. the schema is version 3; intakectl project add / task add make PRJ-1 and TSK-1 (an unknown
#      project is refused).
#   1. the worker reads [worker] faq_directory (four entries, German and English) into faq, whose
#      generated tsvector has a GIN index; intakectl faq list shows them.
#   2. a German mail about a forgotten password gets the German entry (not the English one) in
#      intakectl ticket and in its acknowledgement; an English mail sharing only common words
#      ("the") with the entries gets none (bm25 weighs such words at nearly nothing); the English
#      one has a sentiment on its ticket from the start, the German one none (no German lexicon).
#   3. staff to time@ with [#TSK-1] "0:45 ..." and to tnotes@ [#TSK-1]: intakectl task show has
#      45 minutes and the note; the same mail again adds nothing.
#   4. an out-of-office reply is kept apart: intakectl autogen list / show; autogen import makes a
#      ticket, named by list's imported_as; a second import is refused.
#   5. set-category on nine tickets, intakectl train saves model version 1; the worker, started
#      again, loads it and a new billing mail gets billing suggested.
. "$(dirname "$0")/../lib/harness.sh"
. "$(dirname "$0")/../lib/worker.sh"
. "$(dirname "$0")/../lib/pg.sh"
h_init it_pg_classify

C=$T/intake.conf
F=$T/faq
mkdir -p "$F/support"
faq() {	# faq FILE TITLE URL LANGUAGE TEXT
    printf 'Title: %s\nURL: %s\nLanguage: %s\n\n%s\n' "$2" "$3" "$4" "$5" > "$F/support/$1"
}
faq passwort.txt "Wie setze ich mein Passwort zurück?" "https://help.example.test/de/passwort" de \
    "Wenn Sie Ihr Passwort vergessen haben, öffnen Sie die Anmeldeseite und wählen Sie 'Passwort vergessen'. Sie erhalten einen Link per E-Mail."
faq password.txt "How do I reset my password?" "https://help.example.test/en/password" en \
    "If you forgot your password, open the login page and choose 'Forgot password'. You receive a link by mail."
faq rechnung.txt "Wo finde ich meine Rechnung?" "https://help.example.test/de/rechnung" de \
    "Rechnungen stehen im Kundenkonto unter Abrechnung bereit."
faq delivery.txt "When does my parcel arrive?" "https://help.example.test/en/delivery" en \
    "Parcels take two to three working days; the tracking number is in the shipping confirmation."

h_pg_start || exit 1
h_redis_start || exit 1
S=$(h_free_port)
h_sink_start "$S" "$T/sink" || exit 1
h_worker_conf "$C" "$S" "[worker]" "faq_directory = $F" "[mailbox support]" "faq = support" \
    "[milter]" "staff = staff@company.test" \
    "[mailbox time]" "address = time@$H_DOMAIN" "action = time_entry" \
    "[mailbox tnotes]" "address = tnotes@$H_DOMAIN" "action = task_note"
h_pg_conf "$C"

# 0. schema and records (intakectl makes the schema when it opens the store first)
h_assert_eq PRJ-1 "$(h_ctl "$C" project add "Printer fleet")" "0. project add prints PRJ-1"
h_assert_eq TSK-1 "$(h_ctl "$C" task add --project PRJ-1 "Replace toner")" "0. task add prints TSK-1"
h_check "! h_ctl '$C' task add --project PRJ-9 Nowhere 2> '$T/t9.err' && grep -q 'no project PRJ-9' '$T/t9.err'" \
    "0. task add to an unknown project is refused, naming it"
h_assert_eq 3 "$(h_pg_sql "SELECT version FROM intake_schema")" "0. schema version 3"

h_milter_start "$C" || exit 1
P=$(h_free_port)
h_postfix_start back "$P" "smtpd_milters=unix:$T/milter.sock" || exit 1
h_worker_start "$C" || exit 1

drained() { [ "$(h_xlen 2>/dev/null)" = 0 ] && [ "$(h_pending_count 2>/dev/null)" = 0 ]; }
pg_drained() { [ "$(h_pg_count tickets)" = "$1" ] && drained; }
number_of() { h_pg_sql "SELECT number FROM tickets WHERE customer_address = '$1' ORDER BY id LIMIT 1"; }
ack_for() { h_sink_acks | awk -F'\t' -v n="$1" '$6 == n { print $1 }' | head -n1; }
staff_mail() {	# TO SUBJECT BODY MSGID: fixed Message-ID and Date, so that it can be sent again
    h_mail "$P" staff@company.test "$1" "$2" "$3" --header "Message-ID: <$4@company.test>" \
	--header "Date: Tue, 01 Dec 2026 08:00:00 +0000"
}

# 1. the FAQ folder
h_wait_for "grep -q 'FAQ $F: 4 added, 0 updated, 0 unchanged, 0 removed, 0 failed' '$T/worker.log'" 30 \
    "1. the worker read the FAQ folder into PostgreSQL (log)"
h_assert_eq 4 "$(h_ctl "$C" --json faq list | jq length)" "1. intakectl faq list: four entries"
h_assert_eq gin "$(h_pg_sql "SELECT am.amname FROM pg_class c JOIN pg_am am ON am.oid = c.relam
			    WHERE c.relname = 'faq_fts'")" "1. faq_fts is a GIN index"

# 2. FAQ suggestions; 3. time entry and note; 4. an out-of-office reply: all sent at once.
h_mail "$P" anna@kunde.test support@example.test "Passwort vergessen" \
    "Guten Tag, ich habe mein Passwort vergessen und kann mich nicht mehr anmelden. Können Sie mir bitte helfen?"
h_mail "$P" bob@example.test support@example.test "Compliment" \
    "Hello, a quick compliment from a happy customer: the redesigned logo looks great. Cheers, Bob"
staff_mail "time@$H_DOMAIN" "[#TSK-1] toner" "0:45 Ordered toner" time1
staff_mail "tnotes@$H_DOMAIN" "[#TSK-1] supplier" "Supplier answers Friday." tnote1
cat > "$T/ooo.eml" <<EOF
From: Carl <carl@example.test>
To: support@example.test
Subject: Out of office: back on Monday
Date: Mon, 30 Nov 2026 10:00:00 +0000
Message-ID: <ooo-1@carl.example.test>
Auto-Submitted: auto-replied

I am out of the office until Monday and will answer your mail then.
EOF
h_send_files "$P" carl@example.test support@example.test "$T/ooo.eml" > "$T/send.tsv"
h_assert_eq 250 "$(cut -f2 "$T/send.tsv")" "4. the out-of-office reply is accepted"
h_wait_for "pg_drained 2 && [ \"\$(h_pg_count autogen)\" = 1 ] && [ \"\$(h_pg_count time_entries)\" = 1 ] &&
	    [ \"\$(h_pg_count notes)\" = 1 ]" 60 \
    "2.-4. two tickets, one time entry, one note, one kept mail; stream drained"

A=$(number_of anna@kunde.test)
B=$(number_of bob@example.test)
h_ctl "$C" --json ticket "$A" > "$T/ticket-a.json" || h_fail "intakectl ticket $A"
h_assert_eq "de|Wie setze ich mein Passwort zurück?|https://help.example.test/de/passwort" \
    "$(jq -r '[.language, .faq[0].title, .faq[0].url] | join("|")' "$T/ticket-a.json")" \
    "2. intakectl ticket: German, the German FAQ entry suggested first"
h_assert_eq 0 "$(jq '[.faq[] | select(.title == "How do I reset my password?")] | length' "$T/ticket-a.json")" \
    "2. the English entry is not suggested for a German mail"
h_check "[ \"\$(jq '.faq[0].score | tonumber >= 1.5' '$T/ticket-a.json')\" = true ]" \
    "2. its score reaches faq_min_score (1.5)"
h_wait_for '[ -n "$(ack_for "$A")" ]' 30 "2. anna's acknowledgement reached the relay"
h_check "grep -qF 'https://help.example.test/de/passwort' '$(ack_for "$A")'" \
    "2. the acknowledgement has the FAQ entry's URL"
h_assert_eq "en|0" "$(h_ctl "$C" --json ticket "$B" | jq -r '[.language, (.faq | length)] | join("|")')" \
    "2. an English mail sharing only common words with the entries: no suggestion"
# The first mail's sentiment goes in with the ticket's row (create_ticket), scored in English only.
h_assert_eq "- -" "$(h_pg_sql "SELECT coalesce(sentiment, '-') || ' ' || coalesce(sentiment_score::text, '-')
			      FROM tickets WHERE number = '$A'")" \
    "2. the German mail: no sentiment (no German lexicon), no score"
h_check "h_pg_sql \"SELECT sentiment || ' ' || sentiment_score FROM tickets WHERE number = '$B'\" | grep -Eq '^(negative|neutral|positive) -?[0-9.e-]+\$'" \
    "2. the English mail's sentiment and score are on its ticket"

h_assert_eq "45 1 Supplier answers Friday." \
    "$(h_ctl "$C" --json task show TSK-1 | jq -r '[.minutes, (.notes | length), .notes[0].body] | join(" ")')" \
    "3. task show: 45 minutes, the note"
h_assert_eq "TSK-1 PRJ-1 45" "$(h_ctl "$C" --json task list | jq -r '.[0] | [.number, .project, .minutes] | join(" ")')" \
    "3. task list: the task, its project, its minutes"
staff_mail "time@$H_DOMAIN" "[#TSK-1] toner" "0:45 Ordered toner" time1
staff_mail "tnotes@$H_DOMAIN" "[#TSK-1] supplier" "Supplier answers Friday." tnote1
h_wait_for "[ \"\$(grep -c 'written already: nothing to do' '$T/worker.log')\" -ge 2 ] && drained" 60 \
    "3. both redeliveries seen as such (written already)"
h_assert_eq "1 1 2" "$(h_pg_count time_entries) $(h_pg_count notes) $(h_pg_count tickets)" \
    "3. redelivery: no time entry, note or ticket added"

h_ctl "$C" --json autogen list > "$T/autogen.json" || h_fail "intakectl autogen list"
h_assert_eq "autoreply|carl@example.test|Out of office: back on Monday|null" \
    "$(jq -r '.[0] | [.kind, .sender, .subject, (.imported_as | tostring)] | join("|")' "$T/autogen.json")" \
    "4. autogen list: kind, sender, subject, not imported"
ID=$(jq -r '.[0].id' "$T/autogen.json")
h_assert_eq 0 "$(h_ctl "$C" --json autogen list --kind bounce | jq length)" "4. autogen list --kind bounce: none"
h_check "h_ctl '$C' autogen show '$ID' | grep -q 'out of the office until Monday'" \
    "4. autogen show: the kept mail's text"
h_ctl "$C" autogen import "$ID" > "$T/import.out" 2>&1 || h_fail "autogen import: $(cat "$T/import.out")"
IMP=$(h_pg_sql "SELECT t.number FROM autogen a JOIN tickets t ON t.id = a.imported_ticket")
h_check "[ -n '$IMP' ] && grep -q 'imported: ticket $IMP' '$T/import.out'" "4. autogen import: ticket $IMP made"
h_assert_eq "$IMP" "$(h_ctl "$C" --json autogen list | jq -r '.[0].imported_as')" \
    "4. autogen list: imported_as names the ticket"
h_check "! h_ctl '$C' autogen import '$ID' > '$T/import2.out' 2>&1 && grep -q '$IMP' '$T/import2.out'" \
    "4. a second import is refused, naming the ticket"

# 5. the category model
TRAIN=(
    "billing|Invoice wrong|You charged my card twice for the invoice of March."
    "billing|Refund please|Please refund the payment, the invoice amount is wrong."
    "billing|Payment failed|My credit card payment failed, please send a new invoice."
    "shipping|Where is my parcel|The parcel has not arrived, the tracking shows nothing."
    "shipping|Delivery late|My delivery is late, the courier never came to our address."
    "shipping|Damaged parcel|The parcel arrived damaged, the box was crushed in delivery."
    "login|Cannot log in|I cannot log in, the password reset mail never comes."
    "login|Password|My password does not work and the account is locked."
    "login|Account locked|The account is locked after three wrong password attempts."
)
i=0
for t in "${TRAIN[@]}"; do
    IFS='|' read -r cat subject body <<< "$t"
    i=$((i + 1))
    h_mail "$P" "c$i@example.test" support@example.test "$subject" "Hello, $body Regards, Customer $i"
done
h_wait_for "pg_drained 12" 60 "5. nine more tickets"
i=0
for t in "${TRAIN[@]}"; do
    IFS='|' read -r cat subject body <<< "$t"
    i=$((i + 1))
    h_ctl "$C" set-category "$(number_of "c$i@example.test")" "$cat" >> "$T/set-category.out" 2>&1 ||
	h_fail "set-category c$i $cat: $(tail -1 "$T/set-category.out")"
done
h_assert_eq "3 3 3" "$(h_pg_sql "SELECT count(*) FROM tickets WHERE category_confirmed GROUP BY category ORDER BY category" | xargs)" \
    "5. set-category: three confirmed tickets per category"
h_ctl "$C" train > "$T/train.out" 2>&1 || h_fail "intakectl train: $(cat "$T/train.out")"
h_assert_eq "billing 3|login 3|shipping 3" \
    "$(awk '$1 ~ /^(billing|login|shipping)$/ { print $1, $2 }' "$T/train.out" | sort | paste -sd'|')" \
    "5. train: documents per category, read from PostgreSQL"
h_assert_eq "1 3" "$(h_pg_sql "SELECT value FROM counters WHERE name = 'category-model'") $(h_pg_count category_docs)" \
    "5. train: model version 1, three categories saved"
# A running worker asks for the model's version at most every CATEGORY_CHECK_SECONDS: started
# again, it loads the model at its first mail, without waiting for that.
h_worker_stop
h_worker_start "$C" || exit 1
h_mail "$P" dora@example.test support@example.test "Question about my invoice" \
    "Hello, the invoice shows a payment I did not make, please refund it."
h_wait_for "pg_drained 13" 60 "5. dora's ticket"
h_assert_eq billing "$(h_pg_sql "SELECT category_suggested FROM tickets WHERE customer_address = 'dora@example.test'")" \
    "5. the worker loaded the model from PostgreSQL: billing suggested"
h_check "grep -q 'category model 1 loaded: 3 categories' '$T/worker.log'" \
    "5. worker log: model version 1 loaded, three categories"

h_worker_stop
h_milter_stop

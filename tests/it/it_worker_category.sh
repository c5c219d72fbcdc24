#!/bin/bash
# it_worker_category.sh: category suggestion (docs/classify.md) through Postfix with intake-milter.
# Mailbox support applies a suggestion (category_auto_confidence = 1: any), sales only stores it.
#   1. twelve mails (billing, shipping, login; four each, written here) make tickets; no model
#      yet: no suggestion. intakectl set-category confirms each one's category (an unknown ticket
#      is refused); intakectl train prints the documents per category, the cross-validation and
#      the vocabulary, and saves the model.
#   2. the worker, started again, loads it: a new billing mail to support gets the suggestion
#      billing with a confidence in (1/3, 1], applied as its category (logged with the queue id);
#      the same mail to sales gets the suggestion stored and logged, its category not set.
#      intakectl ticket shows the suggestion (text and --json).
#   3. a follow-up gets no suggestion; train --dry-run saves nothing (the version stays).
. "$(dirname "$0")/../lib/harness.sh"
. "$(dirname "$0")/../lib/worker.sh"
h_init it_worker_category

C=$T/intake.conf
h_redis_start || exit 1
S=$(h_free_port)
h_sink_start "$S" "$T/sink" || exit 1
h_worker_conf "$C" "$S"
sed -i '0,/^\[mailbox support\]/s//[mailbox support]\ncategory_auto_confidence = 1/' "$C"
h_milter_start "$C" || exit 1
P=$(h_free_port)
h_postfix_start back "$P" "smtpd_milters=unix:$T/milter.sock" || exit 1
h_worker_start "$C" || exit 1

TRAIN=(
    "billing|Invoice wrong|You charged my card twice for the invoice of March."
    "billing|Refund please|Please refund the payment, the invoice amount is wrong."
    "billing|Payment failed|My credit card payment failed, please send a new invoice."
    "billing|VAT number missing|The invoice lacks our VAT number, please correct the invoice."
    "shipping|Where is my parcel|The parcel has not arrived, the tracking shows nothing."
    "shipping|Delivery late|My delivery is late, the courier never came to our address."
    "shipping|Damaged parcel|The parcel arrived damaged, the box was crushed in delivery."
    "shipping|Tracking broken|The tracking number does not work, where is the delivery?"
    "login|Cannot log in|I cannot log in, the password reset mail never comes."
    "login|Password|My password does not work and the account is locked."
    "login|Account locked|The account is locked after three wrong password attempts."
    "login|Two factor code|The login code does not arrive, I cannot access my account."
)
i=0
for t in "${TRAIN[@]}"; do
    IFS='|' read -r cat subject body <<< "$t"
    i=$((i + 1))
    h_mail "$P" "c$i@example.test" support@example.test "$subject" "Hello, $body Regards, Customer $i"
done
h_wait_for "h_worker_drained '$C' 12" 60 "twelve tickets"
h_assert_eq 0 "$(h_sql "$C" "SELECT count(*) FROM tickets WHERE category_suggested IS NOT NULL")" \
    "no model yet: no suggestion"

i=0
for t in "${TRAIN[@]}"; do
    IFS='|' read -r cat subject body <<< "$t"
    i=$((i + 1))
    n=$(h_sql "$C" "SELECT number FROM tickets WHERE customer_address = 'c$i@example.test'")
    h_ctl "$C" set-category "$n" "$cat" >> "$T/set-category.out" 2>&1 ||
	h_fail "intakectl set-category $n $cat failed: $(tail -1 "$T/set-category.out")"
done
h_assert_eq 12 "$(grep -c ': category .* (confirmed)$' "$T/set-category.out")" \
    "intakectl set-category: twelve categories confirmed"
h_assert_eq "4 4 4" "$(h_sql "$C" "SELECT count(*) FROM tickets WHERE category_confirmed GROUP BY category ORDER BY category" | xargs)" \
    "four confirmed tickets per category"
h_ctl "$C" set-category INT-1999-999999 billing 2> "$T/set-unknown.err" &&
    h_fail "set-category of an unknown ticket succeeded" ||
    h_assert_eq 1 "$(grep -c 'no ticket INT-1999-999999' "$T/set-unknown.err")" \
	"set-category of an unknown ticket is refused, naming it"

h_ctl "$C" train > "$T/train.out" 2>&1 || h_fail "intakectl train failed: $(cat "$T/train.out")"
h_assert_eq "billing 4|login 4|shipping 4" \
    "$(awk '$1 ~ /^(billing|login|shipping)$/ { print $1, $2 }' "$T/train.out" | sort | paste -sd'|')" \
    "train: documents per category"
grep -q '^10-fold cross-validation: accuracy [0-9.]* (\([0-9]*\) of 12), baseline (majority class) 0.333' "$T/train.out" &&
    h_pass "train: cross-validation of the twelve, baseline 1/3" || h_fail "train: $(cat "$T/train.out")"
grep -q '^vocabulary: [1-9][0-9]* terms, 3 categories$' "$T/train.out" &&
    h_pass "train: vocabulary of three categories" || h_fail "train: no vocabulary line"
h_assert_eq 1 "$(h_sql "$C" "SELECT value FROM counters WHERE name = 'category-model'")" \
    "train: model version 1 saved"
h_assert_eq 3 "$(h_sql "$C" "SELECT count(*) FROM category_docs")" "train: three categories stored"

# 2. The worker loads the model (at its first mail after a start).
h_worker_stop
h_worker_start "$C" || exit 1
MAIL="Hello, the invoice shows a payment I did not make, please refund it."
h_mail "$P" dora@example.test support@example.test "Question about my invoice" "$MAIL"
h_mail "$P" dora@example.test sales@example.test "Question about my invoice" "$MAIL"
h_wait_for "h_worker_drained '$C' 14" 60 "fourteen tickets"
D1=$(h_sql "$C" "SELECT number FROM tickets WHERE customer_address = 'dora@example.test' AND mailbox = 'support'")
D2=$(h_sql "$C" "SELECT number FROM tickets WHERE customer_address = 'dora@example.test' AND mailbox = 'sales'")
h_assert_eq "billing|billing" "$(h_sql "$C" "SELECT category_suggested, category FROM tickets WHERE number = '$D1'")" \
    "support: billing suggested and applied"
h_assert_eq "billing|" "$(h_sql "$C" "SELECT category_suggested, category FROM tickets WHERE number = '$D2'")" \
    "sales (category_auto_confidence 0): billing suggested, not applied"
h_assert_eq 1 "$(h_sql "$C" "SELECT category_confidence > 1.0 / 3 AND category_confidence <= 1 FROM tickets WHERE number = '$D1'")" \
    "the confidence is a probability above chance"
h_assert_eq 1 "$(grep -c ": mailbox support: category billing applied (suggested, confidence 0\.[0-9]* >= 0.01)\|: mailbox support: category billing applied (suggested, confidence 1\.000 >= 0.01)" "$T/worker.log")" \
    "worker log: applied, with the confidence"
grep -q '^.*: [0-9A-Za-z]*: mailbox sales: category billing suggested (confidence [01]\.[0-9]*)$' "$T/worker.log" &&
    h_pass "worker log: suggested for sales, with the queue id" ||
    h_fail "worker log: no suggestion line for sales: $(grep 'category' "$T/worker.log" | tail -3)"
grep -q 'category model 1 loaded: 3 categories' "$T/worker.log" &&
    h_pass "worker log: the model loaded" || h_fail "worker log: no model loaded"
h_ctl "$C" ticket "$D2" > "$T/ticket.txt"
grep -q '^suggested category billing (confidence 0\.[0-9]*)$\|^suggested category billing (confidence 1\.000)$' "$T/ticket.txt" &&
    h_pass "intakectl ticket shows the suggestion" || h_fail "intakectl ticket: $(head -5 "$T/ticket.txt")"
h_assert_eq "billing number 0" "$(h_ctl "$C" --json ticket "$D2" |
    jq -r '[.category_suggested, (.category_confidence | type), .category_confirmed] | join(" ")')" \
    "intakectl --json ticket: category_suggested, category_confidence a number, not confirmed"

# 3. A follow-up (an answer naming the ticket) gets no suggestion; --dry-run saves nothing.
h_mail "$P" dora@example.test support@example.test "Re: [$D1] Question about my invoice" \
    "The invoice and the payment, once more."
h_wait_for "[ \"\$(h_ticket_in_count '$C' '$D1')\" = 2 ]" 60 "dora's follow-up on $D1"
h_assert_eq 2 "$(grep -c 'category billing \(applied\|suggested\)' "$T/worker.log")" \
    "no suggestion for the follow-up"
h_ctl "$C" train --dry-run > "$T/dry.out" 2>&1 || h_fail "train --dry-run failed"
h_assert_eq 1 "$(h_sql "$C" "SELECT value FROM counters WHERE name = 'category-model'")" \
    "train --dry-run: the model is not saved"

h_worker_stop
h_milter_stop

# text.awk -v seed=N -v bytes=N: about N bytes of text from a small vocabulary, 72 columns,
# for benchmark mails (make bench).
BEGIN {
    srand(seed)
    n = split("the a to of and in is it you that for on with this was be have are not but we our your can will please order invoice account password login error printer server email message support help issue problem since yesterday today again still working does doesn't could would thank thanks regards best hello dear team customer number delivery payment refund price product service update version install windows linux phone mobile app screen button page link attached file report month week time date address name company office contract offer request question answer reply urgent soon possible before after every when where which what why how there here more some any all also just only very much many new old first last next other same different problem solved fixed broken slow fast down up open closed ticket case reference", w, " ")
    out = 0; col = 0
    while (out < bytes) {
        word = w[int(rand() * n) + 1]
        if (col + length(word) + 1 > 72) { printf "\n"; out++; col = 0 }
        else if (col > 0) { printf " "; out++; col++ }
        printf "%s", word; out += length(word); col += length(word)
        if (rand() < 0.08) { printf "."; out++; col++ }
    }
    printf "\n"
}

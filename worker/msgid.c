/*
 * NAME
 *	msgid - signed Message-IDs of our outgoing mail
 * SYNOPSIS
 *	struct msgid_keys *msgid_keys_load(path, old_path, create, &why)
 *	struct msgid_keys *msgid_keys_new(secret, len, old, old_len)
 *	struct msgid_keys *msgid_keys_free(keys)
 *	int	msgid_key_check(path, may_be_missing, &why)
 *	char   *msgid_make(keys, number, domain)
 *	char   *msgid_verify(keys, id)
 * DESCRIPTION
 *	A Message-ID we write names the ticket it belongs to and proves that
 *	we wrote it:
 *
 *		i1.NUMBER.RANDOM.MAC@DOMAIN
 *
 *	i1 is the format's version, NUMBER the ticket number, RANDOM 16 hex
 *	digits from getrandom() (ids stay unique), MAC the first 128 bits
 *	of HMAC-SHA256 over "i1.NUMBER.RANDOM" under the secret, as 32
 *	lower-case hex digits. An answer that names such an id in
 *	In-Reply-To or References is attributed to NUMBER without looking
 *	the id up; nobody without the secret can make one, so guessing a
 *	(sequential) ticket number is not enough. The signature proves that
 *	the id is ours, not that the sender may write into the ticket:
 *	stage_thread.c applies [mailbox] thread_trust to it as to a number.
 *
 *	msgid_make() returns a new id without <> (g_free), or NULL when keys
 *	is NULL or the number holds characters that are not allowed in a
 *	Message-ID local part (letters, digits, ".", "-", "+", "_" are).
 *
 *	msgid_verify() returns the ticket number of an id made by
 *	msgid_make() under the current or the previous secret (g_free), or
 *	NULL for anything else: another format, a wrong MAC, an id longer
 *	than MSGID_MAX. The MAC is compared in constant time. Linear in the
 *	length of the id.
 *
 *	Secrets live in files readable only by the worker ([worker]
 *	message_id_secret_file, and message_id_secret_file_old while keys
 *	are rotated: ids signed under the old secret keep threading).
 *	msgid_keys_load() reads them; with create, a missing current file
 *	is made: 32 bytes of getrandom() as 64 hex digits, mode 0600,
 *	O_EXCL (two workers starting together: the second reads the
 *	first's). Leading and trailing white space of a file does not
 *	count; what remains must be MSGID_SECRET_MIN to MSGID_SECRET_MAX
 *	bytes. A file that group or others may read or write is refused:
 *	whoever reads it can write into any ticket. old_path "" or NULL:
 *	no previous secret. msgid_keys_new() takes the secrets as bytes
 *	(tests); old may be NULL.
 *
 *	msgid_key_check() is the check of intake-worker -t: the file loads
 *	as msgid_keys_load() would, or (may_be_missing) it is missing and
 *	its directory exists, so the worker can make it.
 * DIAGNOSTICS
 *	msgid_keys_load() and msgid_key_check() return NULL or -1 with *why
 *	(g_free) naming the file and what to do.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include <sys/random.h>
#include <sys/stat.h>

#include "log.h"
#include "msgid.h"

#define MSGID_VERSION	"i1."
#define RANDOM_BYTES	8
#define MAC_BYTES	16
#define MSGID_MAX	300		/* longer ids are not ours */

struct msgid_keys {
    GBytes *current;
    GBytes *old;			/* NULL: none */
};

struct msgid_keys *msgid_keys_new(const void *secret, gsize len, const void *old, gsize old_len)
{
    struct msgid_keys *keys = g_new0(struct msgid_keys, 1);

    keys->current = g_bytes_new(secret, len);
    if (old)
	keys->old = g_bytes_new(old, old_len);
    return keys;
}

struct msgid_keys *msgid_keys_free(struct msgid_keys *keys)
{
    if (keys) {
	g_bytes_unref(keys->current);
	if (keys->old)
	    g_bytes_unref(keys->old);
	g_free(keys);
    }
    return NULL;
}

/* read_secret - the trimmed secret of a file (g_bytes_unref); NULL, *why and errno */
static GBytes *read_secret(const char *path, char **why)
{
    char    buf[MSGID_SECRET_MAX + 64];
    struct stat sb;
    ssize_t n;
    size_t  len;
    char   *s;
    int     fd, saved;

    if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) < 0) {
	saved = errno;
	*why = g_strdup_printf("%s: cannot open the Message-ID secret: %s", path, g_strerror(saved));
	errno = saved;
	return NULL;
    }
    if (fstat(fd, &sb) < 0 || !S_ISREG(sb.st_mode)) {
	*why = g_strdup_printf("%s: the Message-ID secret is not a regular file", path);
	close(fd);
	errno = EINVAL;
	return NULL;
    }
    if (sb.st_mode & 077) {
	*why = g_strdup_printf("%s: the Message-ID secret may be read or written by group or"
			       " others (mode %04o): chmod 600 it (and make a new one if others"
			       " have read it)", path, (unsigned) (sb.st_mode & 07777));
	close(fd);
	errno = EPERM;
	return NULL;
    }
    n = read(fd, buf, sizeof(buf));
    saved = errno;
    close(fd);
    if (n < 0) {
	*why = g_strdup_printf("%s: cannot read the Message-ID secret: %s", path, g_strerror(saved));
	errno = saved;
	return NULL;
    }
    s = buf;
    len = (size_t) n;
    while (len && g_ascii_isspace(*s))
	s++, len--;
    while (len && g_ascii_isspace(s[len - 1]))
	len--;
    if (len < MSGID_SECRET_MIN || len > MSGID_SECRET_MAX) {
	*why = g_strdup_printf("%s: the Message-ID secret must be %d to %d bytes, not %zu%s",
			       path, MSGID_SECRET_MIN, MSGID_SECRET_MAX, len,
			       len < MSGID_SECRET_MIN ? " (remove the file: the worker makes a"
			       " new one at start)" : "");
	errno = EINVAL;
	return NULL;
    }
    return g_bytes_new(s, len);
}

/* make_secret - create path with a new random secret; 0, or -1 and *why */
static int make_secret(const char *path, char **why)
{
    guint8  raw[32];
    char    hex[2 * sizeof(raw) + 2];
    ssize_t n;
    int     fd;

    if (getrandom(raw, sizeof(raw), 0) != (ssize_t) sizeof(raw)) {
	*why = g_strdup_printf("%s: cannot make a Message-ID secret: getrandom: %s", path,
			       g_strerror(errno));
	return -1;
    }
    for (size_t i = 0; i < sizeof(raw); i++)
	g_snprintf(hex + 2 * i, 3, "%02x", raw[i]);
    hex[2 * sizeof(raw)] = '\n';
    hex[2 * sizeof(raw) + 1] = 0;
    if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600)) < 0) {
	if (errno == EEXIST)
	    return 0;				/* another worker was first */
	*why = g_strdup_printf("%s: cannot create the Message-ID secret: %s (the directory"
			       " must be writable by the worker's user, or make the file:"
			       " head -c 32 /dev/urandom | xxd -p -c 64 > FILE; chmod 600 FILE)",
			       path, g_strerror(errno));
	return -1;
    }
    n = write(fd, hex, strlen(hex));
    if (n != (ssize_t) strlen(hex) || fsync(fd) < 0) {
	*why = g_strdup_printf("%s: cannot write the Message-ID secret: %s", path,
			       n < 0 ? g_strerror(errno) : "short write");
	close(fd);
	unlink(path);
	return -1;
    }
    close(fd);
    msg_info("%s: made a new Message-ID secret", path);
    return 0;
}

struct msgid_keys *msgid_keys_load(const char *path, const char *old_path, gboolean create,
				   char **why)
{
    struct msgid_keys *keys;
    GBytes *current = read_secret(path, why);

    if (current == NULL && errno == ENOENT && create) {
	g_free(*why);
	*why = NULL;
	if (make_secret(path, why) < 0)
	    return NULL;
	current = read_secret(path, why);
    }
    if (current == NULL)
	return NULL;
    keys = g_new0(struct msgid_keys, 1);
    keys->current = current;
    if (old_path && *old_path && (keys->old = read_secret(old_path, why)) == NULL)
	return msgid_keys_free(keys);
    return keys;
}

int     msgid_key_check(const char *path, gboolean may_be_missing, char **why)
{
    GBytes *b;

    if ((b = read_secret(path, why)) != NULL) {
	g_bytes_unref(b);
	return 0;
    }
    if (errno == ENOENT && may_be_missing) {
	g_autofree char *dir = g_path_get_dirname(path);

	if (g_file_test(dir, G_FILE_TEST_IS_DIR)) {
	    g_free(*why);
	    *why = NULL;
	    return 0;
	}
	g_free(*why);
	*why = g_strdup_printf("%s: the Message-ID secret is missing and its directory %s"
			       " does not exist to make it in", path, dir);
    }
    return -1;
}

/* mac_hex - the truncated MAC of text under key, as hex, into out[2 * MAC_BYTES + 1] */
static void mac_hex(GBytes *key, const char *text, size_t len, char *out)
{
    gsize   klen;
    const guint8 *k = g_bytes_get_data(key, &klen);
    guint8  digest[32];
    gsize   dlen = sizeof(digest);
    GHmac  *h = g_hmac_new(G_CHECKSUM_SHA256, k, klen);

    g_hmac_update(h, (const guchar *) text, (gssize) len);
    g_hmac_get_digest(h, digest, &dlen);
    g_hmac_unref(h);
    for (int i = 0; i < MAC_BYTES; i++)
	g_snprintf(out + 2 * i, 3, "%02x", digest[i]);
}

static gboolean atext_number(const char *number)
{
    if (number == NULL || *number == 0 || strlen(number) > 64)
	return FALSE;
    for (const char *p = number; *p; p++)
	if (!g_ascii_isalnum(*p) && !strchr(".-+_", *p))
	    return FALSE;
    return TRUE;
}

char   *msgid_make(const struct msgid_keys *keys, const char *number, const char *domain)
{
    guint8  raw[RANDOM_BYTES];
    char    rnd[2 * RANDOM_BYTES + 1];
    char    mac[2 * MAC_BYTES + 1];
    g_autofree char *signed_part = NULL;

    if (keys == NULL || !atext_number(number))
	return NULL;
    if (getrandom(raw, sizeof(raw), 0) != (ssize_t) sizeof(raw)) {
	/* Uniqueness only: the MAC, not this part, is the secret. */
	for (size_t i = 0; i < sizeof(raw); i++)
	    raw[i] = (guint8) g_random_int_range(0, 256);
    }
    for (size_t i = 0; i < sizeof(raw); i++)
	g_snprintf(rnd + 2 * i, 3, "%02x", raw[i]);
    signed_part = g_strdup_printf(MSGID_VERSION "%s.%s", number, rnd);
    mac_hex(keys->current, signed_part, strlen(signed_part), mac);
    return g_strdup_printf("%s.%s@%s", signed_part, mac, domain && *domain ? domain : "localhost");
}

/* same_mac - constant-time comparison of two MACs in hex */
static gboolean same_mac(const char *a, const char *b)
{
    unsigned diff = 0;

    for (int i = 0; i < 2 * MAC_BYTES; i++)
	diff |= (unsigned) (a[i] ^ b[i]);
    return diff == 0;
}

static gboolean all_hex(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
	if (!g_ascii_isxdigit(s[i]) || g_ascii_isupper(s[i]))
	    return FALSE;
    return TRUE;
}

char   *msgid_verify(const struct msgid_keys *keys, const char *id)
{
    const char *at, *mac, *rnd;
    char    want[2 * MAC_BYTES + 1];
    size_t  vlen = strlen(MSGID_VERSION);
    size_t  len;

    if (keys == NULL || id == NULL || (len = strnlen(id, MSGID_MAX + 1)) > MSGID_MAX
	|| strncmp(id, MSGID_VERSION, vlen) != 0 || (at = strchr(id, '@')) == NULL)
	return NULL;
    /* i1.NUMBER.RANDOM.MAC: fixed widths from the right. */
    if ((size_t) (at - id) < vlen + 1 + 1 + 2 * RANDOM_BYTES + 1 + 2 * MAC_BYTES)
	return NULL;
    mac = at - 2 * MAC_BYTES;
    rnd = mac - 1 - 2 * RANDOM_BYTES;
    if (mac[-1] != '.' || rnd[-1] != '.' || !all_hex(mac, 2 * MAC_BYTES)
	|| !all_hex(rnd, 2 * RANDOM_BYTES))
	return NULL;
    mac_hex(keys->current, id, (size_t) (mac - 1 - id), want);
    if (!same_mac(want, mac)) {
	if (keys->old == NULL)
	    return NULL;
	mac_hex(keys->old, id, (size_t) (mac - 1 - id), want);
	if (!same_mac(want, mac))
	    return NULL;
    }
    return g_strndup(id + vlen, (gsize) (rnd - 1 - (id + vlen)));
}

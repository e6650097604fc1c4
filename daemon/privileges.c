/*
 * Least privilege (privileges.h): refuse root without a user, act as the
 * user while making store files, then drop root for good.
 */

#include "privileges.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/types.h>
#include <unistd.h>

#if defined(__SANITIZE_ADDRESS__)
#define PRIV_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define PRIV_SANITIZED 1
#endif
#endif

/*
 * A uid change makes the process non-dumpable: no core file and no ptrace
 * by the user, which keeps the TLS and publisher keys out of reach; it
 * stays so. Only a sanitizer build undoes it, because LeakSanitizer's
 * exit-time scan needs to attach to its own threads.
 */
static void
priv_after_change(void)
{
#ifdef PRIV_SANITIZED
	prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);
#endif
}

static struct {
	int active;		/* root with a user to become */
	uid_t uid;
	gid_t gid;
	char name[64];
} priv;

int
priv_init(const struct config *cfg, char *err, size_t errlen)
{
	struct passwd *pw;

	priv.active = 0;
	if (geteuid() != 0)
		return 0;
	if (cfg->user == NULL) {
		if (cfg->allow_root)
			return 0;
		snprintf(err, errlen, "%s: refusing to run as root: set [mirror] user = NAME "
		    "(emberd drops to it after binding its ports), or allow_root = yes",
		    cfg->path);
		return -1;
	}
	errno = 0;
	if ((pw = getpwnam(cfg->user)) == NULL) {
		snprintf(err, errlen, "%s: [mirror] user %s: %s", cfg->path, cfg->user,
		    errno ? strerror(errno) : "no such user");
		return -1;
	}
	if (pw->pw_uid == 0) {
		/* Dropping to root is no drop: say so rather than pretend. */
		if (cfg->allow_root)
			return 0;
		snprintf(err, errlen, "%s: [mirror] user %s is root; pick an unprivileged "
		    "user, or set allow_root = yes", cfg->path, cfg->user);
		return -1;
	}
	priv.active = 1;
	priv.uid = pw->pw_uid;
	priv.gid = pw->pw_gid;
	snprintf(priv.name, sizeof(priv.name), "%s", cfg->user);
	return 0;
}

int
priv_enter(char *err, size_t errlen)
{
	if (!priv.active)
		return 0;
	if (setegid(priv.gid) == -1 || seteuid(priv.uid) == -1) {
		snprintf(err, errlen, "cannot act as user %s: %s", priv.name, strerror(errno));
		return -1;
	}
	priv_after_change();
	return 0;
}

int
priv_leave(char *err, size_t errlen)
{
	if (!priv.active)
		return 0;
	if (seteuid(0) == -1 || setegid(0) == -1) {
		snprintf(err, errlen, "cannot return to root: %s", strerror(errno));
		return -1;
	}
	priv_after_change();
	return 0;
}

int
priv_drop(char *err, size_t errlen)
{
	if (!priv.active)
		return 0;
	if (geteuid() != 0 && seteuid(0) == -1) {
		snprintf(err, errlen, "cannot drop to user %s: %s", priv.name, strerror(errno));
		return -1;
	}
	if (initgroups(priv.name, priv.gid) == -1 ||
	    setresgid(priv.gid, priv.gid, priv.gid) == -1 ||
	    setresuid(priv.uid, priv.uid, priv.uid) == -1) {
		snprintf(err, errlen, "cannot drop to user %s: %s", priv.name, strerror(errno));
		return -1;
	}
	/* A drop that could be undone is no drop. */
	if (setuid(0) != -1 || seteuid(0) != -1) {
		snprintf(err, errlen, "dropped to user %s, but root could be regained", priv.name);
		return -1;
	}
	priv.active = 0;
	priv_after_change();
	return 0;
}

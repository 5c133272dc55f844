/* The only C in pvd: what Swift cannot import directly.
 * Namespace calls need _GNU_SOURCE and their CLONE_* flags are macros. */
#ifndef PVD_SHIM_H
#define PVD_SHIM_H

/* Network namespace flag for setns()/unshare(). */
extern const int pvd_clone_newnet;
/* Mount namespace flag for unshare(). */
extern const int pvd_clone_newns;

/* setns(2); returns 0 or -1 with errno set. */
int pvd_setns(int fd, int nstype);
/* unshare(2); returns 0 or -1 with errno set. */
int pvd_unshare(int flags);

#endif

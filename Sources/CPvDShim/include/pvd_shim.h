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

/* prctl(PR_SET_NO_NEW_PRIVS, 1): execve never grants privileges again. */
int pvd_set_no_new_privs(void);
/* prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL). */
int pvd_clear_ambient_capabilities(void);

/* setresuid(2), setresgid(2), getresuid(2): GNU extensions. */
int pvd_setresuid(unsigned int uid);
int pvd_setresgid(unsigned int gid);
int pvd_getresuid(unsigned int *real, unsigned int *effective, unsigned int *saved);

/* getauxval(AT_SECURE): nonzero when the process runs with privileges its
 * caller did not have (setuid, file capabilities). */
unsigned long pvd_is_secure_exec(void);

/* open(path, O_PATH | O_DIRECTORY) (O_PATH needs _GNU_SOURCE): a handle on
 * a directory that can name files below it through /proc/self/fd, even once
 * the path is covered by a mount; not close-on-exec. */
int pvd_open_path_directory(const char *path);

/* pidfd_open(2) (no glibc wrapper in Debian 12): a descriptor that becomes
 * readable when the process exits, also for a process that is not a child. */
int pvd_pidfd_open(int pid);

/* setfsuid(2) for the calling thread: what sockets it makes are owned by `uid`. */
int pvd_setfsuid(unsigned uid);

/* posix_spawn_file_actions_addchdir_np (glibc 2.29), which Swift does not see
 * without _GNU_SOURCE: a child started in another directory. */
int pvd_spawn_addchdir(void *actions, const char *path);

/* mount(2) and umount2(2) in another mount namespace (open at mntns), done
 * by a forked child: setns(CLONE_NEWNS) refuses a multithreaded caller.
 * Return 0 or the errno. pvdd under systemd's sandbox publishes /run/netns
 * entries in the host's mount namespace this way. */
int pvd_mount_in(int mntns, const char *source, const char *target, const char *fstype, unsigned long flags);
int pvd_umount_in(int mntns, const char *target, int flags);

#endif

#define _GNU_SOURCE
#include <sys/fsuid.h>
#include <sys/syscall.h>
#include <sched.h>
#include <sys/prctl.h>
#include <unistd.h>
#include <sys/auxv.h>
#include <spawn.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <errno.h>
#include <fcntl.h>
#include "pvd_shim.h"

const int pvd_clone_newnet = CLONE_NEWNET;
const int pvd_clone_newns = CLONE_NEWNS;

int pvd_setns(int fd, int nstype) { return setns(fd, nstype); }
int pvd_unshare(int flags) { return unshare(flags); }
int pvd_set_no_new_privs(void) { return prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); }
int pvd_clear_ambient_capabilities(void) { return prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0); }
int pvd_setresuid(unsigned int uid) { return setresuid(uid, uid, uid); }
int pvd_setresgid(unsigned int gid) { return setresgid(gid, gid, gid); }
int pvd_getresuid(unsigned int *real, unsigned int *effective, unsigned int *saved) {
    return getresuid(real, effective, saved);
}
unsigned long pvd_is_secure_exec(void) { return getauxval(AT_SECURE); }

int pvd_pidfd_open(int pid) { return (int)syscall(SYS_pidfd_open, pid, 0); }

int pvd_setfsuid(unsigned uid) { return setfsuid(uid); }

int pvd_spawn_addchdir(void *actions, const char *path) {
    return posix_spawn_file_actions_addchdir_np((posix_spawn_file_actions_t *)actions, path);
}

/* The child does one mount(2) or umount2(2) in the mount namespace open at
 * mntns and exits with 0 or the errno; the parent returns that. */
static int run_in_mount_namespace(int mntns, const char *source, const char *target, const char *fstype, unsigned long flags,
                                  int unmount) {
    pid_t pid = fork();
    if (pid < 0) return errno;
    if (pid == 0) {
        if (setns(mntns, CLONE_NEWNS) != 0) _exit(errno);
        int result = unmount ? umount2(target, (int)flags) : mount(source, target, fstype, flags, NULL);
        _exit(result == 0 ? 0 : errno);
    }
    int status = 0;
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) return errno;
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : EIO;
}

int pvd_mount_in(int mntns, const char *source, const char *target, const char *fstype, unsigned long flags) {
    return run_in_mount_namespace(mntns, source, target, fstype, flags, 0);
}

int pvd_umount_in(int mntns, const char *target, int flags) {
    return run_in_mount_namespace(mntns, NULL, target, NULL, (unsigned long)flags, 1);
}

int pvd_open_path_directory(const char *path) {
    return open(path, O_PATH | O_DIRECTORY);
}

#define _GNU_SOURCE
#include <sched.h>
#include "pvd_shim.h"

const int pvd_clone_newnet = CLONE_NEWNET;
const int pvd_clone_newns = CLONE_NEWNS;

int pvd_setns(int fd, int nstype) { return setns(fd, nstype); }
int pvd_unshare(int flags) { return unshare(flags); }

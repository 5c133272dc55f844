#include <ndp.h>

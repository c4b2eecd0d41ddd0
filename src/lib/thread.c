/* thread.c — see thread.h */
#include "lib/thread.h"

_Thread_local unsigned int tid;
unsigned int dp_nbthread = 1;

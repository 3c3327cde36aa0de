// sep.h uses size_t without including <stddef.h>.
#include <stddef.h>
#include <sep.h>

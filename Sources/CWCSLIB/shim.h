// wcslib (Debian wcslib-dev): header parsing, pixel <-> world, spherical rotations.
#include <wcslib/wcs.h>
#include <wcslib/wcshdr.h>
#include <wcslib/wcsfix.h>
#include <wcslib/sph.h>

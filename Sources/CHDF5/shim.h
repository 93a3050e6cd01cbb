// CHDF5: libhdf5, serial build (Debian: libhdf5-dev, pkg-config `hdf5`: headers under
// /usr/include/hdf5/serial, library hdf5 in its own directory). Includes only.
#include <hdf5.h>

// CBLAS: OpenBLAS's CBLAS interface (Debian: libopenblas-dev, pkg-config `openblas`).
// Includes only; no logic lives here.
#include <cblas.h>

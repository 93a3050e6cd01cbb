// CXXHash: xxHash (Debian: libxxhash-dev, pkg-config `libxxhash`). Includes only.
#include <xxhash.h>

// CMsgPack: msgpack-c (Debian: libmsgpack-dev, pkg-config `msgpack`). Includes only.
#include <msgpack.h>

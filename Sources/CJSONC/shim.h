// CJSONC: json-c (Debian: libjson-c-dev, pkg-config `json-c`). Includes only.
#include <json.h>

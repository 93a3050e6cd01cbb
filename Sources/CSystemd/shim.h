// CSystemd: libsystemd (Debian: libsystemd-dev, pkg-config `libsystemd`). Includes only.
#include <systemd/sd-daemon.h>
#include <systemd/sd-journal.h>

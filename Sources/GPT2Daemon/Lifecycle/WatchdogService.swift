// WatchdogService — systemd's watchdog (`WatchdogSec=`) as a service: pings from the group's start until
// its own graceful shutdown, which comes last (it is the first service of the group), so WATCHDOG=1 keeps
// going while requests drain. The pings themselves stay on the Watchdog's dispatch queue, independent of
// Swift concurrency's cooperative pool.

import GPT2Systemd
import ServiceLifecycle

struct WatchdogService: Service {
    let watchdog: Watchdog

    func run() async {
        watchdog.start()
        // Returns at graceful shutdown, throws on cancellation: the watchdog stops either way.
        try? await gracefulShutdown()
        watchdog.stop()
    }
}

import Glibc

/// The clocks the command line and the helpers read (the daemon's own
/// decisions read its event loop's clock).
public enum SystemClock {
    /// Seconds on CLOCK_MONOTONIC: for intervals.
    public static var monotonic: Double {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
    }

    /// Whole seconds since the epoch (CLOCK_REALTIME): for expiry dates.
    public static var unixTime: Int64 { Int64(time(nil)) }

    /// The local time of day, `HH:MM:SS`, now or at `unixTime`.
    public static func localTimeOfDay(at unixTime: Int64? = nil) -> String {
        var clock = unixTime.map { time_t($0) } ?? time(nil)
        var parts = tm()
        localtime_r(&clock, &parts)
        var buffer = [CChar](repeating: 0, count: 16)
        strftime(&buffer, buffer.count, "%H:%M:%S", &parts)
        return String(cBuffer: buffer)
    }
}

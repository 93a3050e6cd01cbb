// DaemonVersion — gpt2d's version, in one place: `gpt2d --version` prints it and the metrics'
// `gpt2d_build_info{version=…}` series carries it.

public enum DaemonVersion {
    public static let current = "0.1.0"
}

// The `state_dir` setting (issue #15 point 1): auto / none / a path, and how auto resolves against
// systemd's $STATE_DIRECTORY (the unit's StateDirectory=gpt2d).
import Testing
@testable import GPT2Daemon

@Suite struct StateDirSettingTests {
    @Test func autoIsSystemdsStateDirectoryElseNone() throws {
        #expect(DaemonSettings.stateDir.defaultValue == .auto)
        #expect(DaemonSettings.setting(forKey: "state_dir")?.defaultText == "auto")
        #expect(DaemonConfig().stateDir == .auto)
        let type = SettingType<StateDirectorySetting>.autoNoneOrPath
        #expect(try type.parse("none") == StateDirectorySetting.none)
        #expect(try type.parse("/srv/gpt2d") == .path("/srv/gpt2d"))
        #expect(StateDirectorySetting.auto.stateDirectory(environment: ["STATE_DIRECTORY": "/var/lib/gpt2d"]) == "/var/lib/gpt2d")
        #expect(StateDirectorySetting.auto.stateDirectory(environment: ["STATE_DIRECTORY": "/var/lib/a:/var/lib/b"]) == "/var/lib/a")
        #expect(StateDirectorySetting.auto.stateDirectory(environment: ["CACHE_DIRECTORY": "/var/cache/gpt2d"]) == nil)
        #expect(StateDirectorySetting.auto.stateDirectory(environment: ["STATE_DIRECTORY": ""]) == nil)
        #expect(StateDirectorySetting.none.stateDirectory(environment: ["STATE_DIRECTORY": "/var/lib/gpt2d"]) == nil)
        #expect(StateDirectorySetting.path("/x").stateDirectory(environment: ["STATE_DIRECTORY": "/y"]) == "/x")
    }
}

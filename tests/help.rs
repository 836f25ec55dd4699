//! Every command's `--help` ends with two or three example lines.

mod support;

use support::succeeds;

#[test]
fn every_help_ends_with_examples() {
    let commands: [&[&str]; 10] = [
        &[],
        &["train"],
        &["sample"],
        &["info"],
        &["bench"],
        &["eval"],
        &["classifier"],
        &["classifier", "train"],
        &["export"],
        &["download"],
    ];
    for command in commands {
        let mut args = command.to_vec();
        args.push("--help");
        let help = succeeds(&args);
        let tail = help.trim_end().rsplit_once("Examples:").map(|(_, t)| t);
        let Some(tail) = tail else {
            panic!("gan-gpu {command:?} --help has no examples:\n{help}")
        };
        let lines: Vec<&str> = tail.trim().lines().collect();
        assert!(
            (2..=3).contains(&lines.len()) && lines.iter().all(|l| l.contains("gan-gpu ")),
            "gan-gpu {command:?} --help ends with {lines:?}"
        );
    }
}

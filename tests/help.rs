//! Every command's `--help` ends with two or three example lines.

mod support;

use clap::CommandFactory;
use gan_gpu::cli::Cli;
use support::succeeds;

/// Every command path of the CLI, from clap's own tree (so a new command cannot be missed).
fn command_paths(command: &clap::Command, prefix: Vec<String>, out: &mut Vec<Vec<String>>) {
    out.push(prefix.clone());
    for sub in command.get_subcommands() {
        if sub.get_name() == "help" {
            continue;
        }
        let mut path = prefix.clone();
        path.push(sub.get_name().to_string());
        command_paths(sub, path, out);
    }
}

#[test]
fn every_help_ends_with_examples() {
    let mut commands = Vec::new();
    command_paths(&Cli::command(), Vec::new(), &mut commands);
    assert!(commands.len() >= 11, "{commands:?}");
    for command in &commands {
        let mut args: Vec<&str> = command.iter().map(String::as_str).collect();
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

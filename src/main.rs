//! The `fulian-graph` binary: parse configuration, set up logging, run the subcommand.

use clap::Parser;
use fulian_graph::config::{Cli, Command, ServeOptions};
use fulian_graph::{graphql, server, telemetry};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    telemetry::init(&cli.global.log, cli.global.log_format)?;
    match cli.command.unwrap_or(Command::Serve(ServeOptions::default())) {
        Command::Serve(options) => server::serve(&cli.global, &options).await,
        Command::Migrate => {
            server::open_store(&cli.global).await?.migrate().await?;
            tracing::info!("migrations applied");
            Ok(())
        }
        Command::ExportSchema => {
            print!("{}", graphql::sdl());
            Ok(())
        }
    }
}

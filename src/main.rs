//! The `fulian-graph` binary: parse configuration, set up logging, run the subcommand.

use anyhow::anyhow;
use clap::Parser;
use fulian_graph::config::{Cli, Command, ServeOptions, TokenCommand};
use fulian_graph::domain::access::Principal;
use fulian_graph::{auth, graphql, server, telemetry};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    // Kept to the end: dropping it flushes the spans still to be exported.
    let _telemetry = telemetry::init(&cli.global.log, cli.global.log_format)?;
    match cli.command.unwrap_or_else(|| Command::Serve(ServeOptions::from_env())) {
        Command::Serve(options) => server::serve(&cli.global, &options).await,
        Command::Migrate => {
            server::open_store(&cli.global).await?.migrate().await?;
            tracing::info!("migrations applied");
            Ok(())
        }
        Command::Import { file } => {
            let store = server::open_store(&cli.global).await?;
            store.migrate().await?;
            let services = fulian_graph::domain::Services::new(store);
            match fulian_graph::import::import(&services, &file).await? {
                Ok(summary) => {
                    println!(
                        "imported {}: {} reports created, {} revised, {} unchanged; {} figures",
                        file.display(),
                        summary.created,
                        summary.revised,
                        summary.unchanged,
                        summary.figures
                    );
                    Ok(())
                }
                Err(problems) => {
                    eprintln!("{}: {} problem(s), nothing was written:", file.display(), problems.len());
                    for problem in &problems {
                        eprintln!("  {problem}");
                    }
                    std::process::exit(1);
                }
            }
        }
        Command::GenData { scale, seed } => {
            let store = server::open_store(&cli.global).await?;
            store.migrate().await?;
            let started = std::time::Instant::now();
            let generated = fulian_graph::gendata::generate(&store, scale, seed).await?;
            for (table, rows) in &generated.rows {
                println!("{table:>20}  {rows:>9} rows");
            }
            println!("synthetic report {:?} written in {:.1} s", generated.report_key, started.elapsed().as_secs_f64());
            Ok(())
        }
        Command::Bench(options) => {
            let outcomes = fulian_graph::bench::run(&options).await?;
            println!("{}", fulian_graph::bench::table(&outcomes, options.connections));
            Ok(())
        }
        Command::ExportSchema => {
            print!("{}", graphql::sdl());
            Ok(())
        }
        Command::Token(TokenCommand::Issue(o)) => {
            let principal =
                Principal { sub: o.sub, role: o.role.parse().map_err(|e: String| anyhow!(e))?, region: o.region };
            let ttl = auth::parse_ttl(&o.ttl).map_err(|e| anyhow!(e))?;
            println!(
                "{}",
                auth::issue(&o.jwt_secret, &principal, ttl, o.jwt_issuer.as_deref(), o.jwt_audience.as_deref())?
            );
            Ok(())
        }
    }
}

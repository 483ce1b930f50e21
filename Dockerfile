# fulian-graph container image: `docker build -t fulian-graph .` (see "Deploying" in the README).
#
# The build stage compiles the dependencies against stub sources first, so that layer is reused
# until Cargo.toml or Cargo.lock change; a source change recompiles only fulian-graph itself.
# The binary embeds the migrations, the demo dataset (data/*.json) and the GraphiQL bundle, so the runtime image holds
# the binary alone, on distroless (glibc, CA certificates, no shell), running as uid 10001.

ARG RUST_VERSION=1.95

FROM rust:${RUST_VERSION}-bookworm AS build
WORKDIR /build
ENV CARGO_TERM_COLOR=never

# 1. Dependencies only.
COPY Cargo.toml Cargo.lock ./
RUN mkdir src \
 && echo 'fn main() {}' > src/main.rs \
 && touch src/lib.rs \
 && cargo build --release --locked \
 && rm -rf src target/release/.fingerprint/fulian-graph-* target/release/deps/fulian_graph-* \
           target/release/deps/libfulian_graph-* target/release/fulian-graph*

# 2. The application (migrations, data/ and the GraphiQL bundle are compiled in by
#    sqlx::migrate!, include_str! and include_bytes!).
COPY migrations ./migrations
COPY data ./data
COPY assets/graphiql/graphiql.js assets/graphiql/graphiql.css ./assets/graphiql/
COPY src ./src
RUN cargo build --release --locked \
 && mkdir -p /out/data \
 && cp target/release/fulian-graph /out/fulian-graph \
 && chown 10001:10001 /out/data

FROM gcr.io/distroless/cc-debian12:nonroot
LABEL org.opencontainers.image.title="fulian-graph" \
      org.opencontainers.image.description="GraphQL data platform for the reports of women's federations" \
      org.opencontainers.image.licenses="Apache-2.0"
COPY --from=build /out/fulian-graph /usr/local/bin/fulian-graph
# Where the SQLite file lives; mount a volume here (Kubernetes: a PersistentVolumeClaim or emptyDir).
COPY --from=build --chown=10001:10001 /out/data /data
WORKDIR /data
ENV FULIAN_LISTEN=0.0.0.0:8080 \
    FULIAN_DATABASE_URL=sqlite:///data/fulian.db \
    FULIAN_LOG_FORMAT=json
USER 10001:10001
EXPOSE 8080
# The binary is PID 1 and handles SIGTERM itself: it stops accepting connections and lets
# in-flight requests finish within FULIAN_SHUTDOWN_GRACE_SECONDS.
ENTRYPOINT ["/usr/local/bin/fulian-graph"]
CMD ["serve"]

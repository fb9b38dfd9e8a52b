# Build a static binary (pure-Go SQLite, no cgo), then run it as a non-root
# user from a minimal image.
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/slakeeper . \
 && mkdir -p /out/data

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/slakeeper /usr/local/bin/slakeeper
COPY --from=build --chown=nonroot:nonroot /out/data /data
COPY examples/slakeeper.yaml /etc/slakeeper/slakeeper.yaml
USER nonroot:nonroot
WORKDIR /data
ENV CONFIG=/etc/slakeeper/slakeeper.yaml \
    DATABASE_URL=/data/slakeeper.db \
    HTTP_ADDR=:8080
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/slakeeper"]
CMD ["serve"]

# Multi-stage build: a static binary on a minimal, non-root base.
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
# The version is releaseVersion in cmd/es_remote_exporter/version.go; the
# build context has no .git (.dockerignore), so the binary reports no revision.
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o /out/es_remote_exporter ./cmd/es_remote_exporter

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/es_remote_exporter /bin/es_remote_exporter
USER 65532:65532
EXPOSE 10114
ENTRYPOINT ["/bin/es_remote_exporter"]

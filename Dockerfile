# Multi-stage build: a static binary on a minimal, non-root base.
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
RUN CGO_ENABLED=0 go build -trimpath \
      -ldflags "-s -w -X github.com/prometheus/common/version.Version=${VERSION}" \
      -o /out/es_remote_exporter ./cmd/es_remote_exporter

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/es_remote_exporter /bin/es_remote_exporter
USER 65532:65532
EXPOSE 10114
ENTRYPOINT ["/bin/es_remote_exporter"]

/*
 * kafka-mock-broker: runs librdkafka's mock cluster (the Kafka-protocol
 * implementation Confluent uses to test librdkafka) as a standalone process
 * for tests and the local sandbox.
 *
 * Why a launcher at all: the mock cluster only exists inside a librdkafka
 * handle, listens on random ports and reports ControllerId 0 although its
 * brokers are numbered 1..N (kafkajs admin calls and the idempotent producer
 * then fail with "Broker 0 not found"). This file fixes those three gaps:
 * fixed ports (a bind() wrapper), the controller id, and a readiness line
 * plus a clean stop on SIGTERM/SIGINT or when stdin closes.
 *
 * Usage: kafka-mock-broker [--brokers N] [--port P] [--topic NAME:PARTITIONS]...
 *                          [--ready-file PATH] [--exit-on-stdin-eof]
 * Prints "READY <bootstrap servers>" on stdout once every broker listens.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

/* Ports handed out, in order, to the mock brokers' listen sockets. */
static int next_port = 0;
static int ports_left = 0;

/* librdkafka binds each mock broker to 127.0.0.1:0. Interpose bind() so the
 * n-th listener gets port P+n instead, which makes the bootstrap address
 * predictable for scripts and a restarted broker reachable at the same place. */
int bind(int fd, const struct sockaddr *addr, socklen_t len) {
  static int (*real_bind)(int, const struct sockaddr *, socklen_t) = NULL;
  if (!real_bind) real_bind = (int (*)(int, const struct sockaddr *, socklen_t))dlsym(RTLD_NEXT, "bind");
  if (ports_left > 0 && addr && addr->sa_family == AF_INET && len >= (socklen_t)sizeof(struct sockaddr_in)) {
    struct sockaddr_in sin;
    memcpy(&sin, addr, sizeof sin);
    if (sin.sin_port == 0) {
      int one = 1;
      setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
      sin.sin_port = htons((unsigned short)next_port);
      next_port++;
      ports_left--;
      return real_bind(fd, (struct sockaddr *)&sin, sizeof sin);
    }
  }
  return real_bind(fd, addr, len);
}

/* The head of librdkafka 2.0.2's struct rd_kafka_mock_cluster_s. */
struct mock_cluster_head {
  char id[32];
  rd_kafka_t *rk;
  int32_t controller_id;
};

static volatile sig_atomic_t stopping = 0;
static void on_signal(int sig) {
  (void)sig;
  stopping = 1;
}

static void usage(void) {
  fprintf(stderr,
          "usage: kafka-mock-broker [--brokers N] [--port P] [--topic NAME:PARTITIONS]... "
          "[--ready-file PATH] [--exit-on-stdin-eof]\n");
}

int main(int argc, char **argv) {
  int brokers = 1;
  int port = 0;
  const char *ready_file = NULL;
  int exit_on_eof = 0;
  const char *topics[256];
  int topic_cnt = 0;

  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--brokers") && i + 1 < argc) {
      brokers = atoi(argv[++i]);
    } else if (!strcmp(argv[i], "--port") && i + 1 < argc) {
      port = atoi(argv[++i]);
    } else if (!strcmp(argv[i], "--topic") && i + 1 < argc) {
      if (topic_cnt < 256) topics[topic_cnt++] = argv[++i];
    } else if (!strcmp(argv[i], "--ready-file") && i + 1 < argc) {
      ready_file = argv[++i];
    } else if (!strcmp(argv[i], "--exit-on-stdin-eof")) {
      exit_on_eof = 1;
    } else {
      usage();
      return 2;
    }
  }
  if (brokers < 1 || brokers > 16 || port < 0 || port > 65535 - brokers) {
    usage();
    return 2;
  }
  if (port > 0) {
    next_port = port;
    ports_left = brokers;
  }

  char errstr[512];
  rd_kafka_conf_t *conf = rd_kafka_conf_new();
  rd_kafka_conf_set(conf, "log_level", "3", errstr, sizeof errstr);
  rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof errstr);
  if (!rk) {
    fprintf(stderr, "kafka-mock-broker: rd_kafka_new failed: %s\n", errstr);
    return 1;
  }
  rd_kafka_mock_cluster_t *mc = rd_kafka_mock_cluster_new(rk, brokers);
  if (!mc) {
    fprintf(stderr, "kafka-mock-broker: could not start the mock cluster (port %d in use?)\n", port);
    /* Not rd_kafka_destroy(): librdkafka 2.0.2 asserts on a handle whose mock cluster failed. */
    _exit(1);
  }
  ((struct mock_cluster_head *)mc)->controller_id = 1;

  for (int i = 0; i < topic_cnt; i++) {
    char name[256];
    int partitions = 4;
    snprintf(name, sizeof name, "%s", topics[i]);
    char *colon = strrchr(name, ':');
    if (colon) {
      *colon = '\0';
      partitions = atoi(colon + 1);
    }
    rd_kafka_resp_err_t err = rd_kafka_mock_topic_create(mc, name, partitions, 1);
    if (err) fprintf(stderr, "kafka-mock-broker: topic %s: %s\n", name, rd_kafka_err2str(err));
  }

  const char *bootstraps = rd_kafka_mock_cluster_bootstraps(mc);
  if (ready_file) {
    FILE *f = fopen(ready_file, "w");
    if (f) {
      fprintf(f, "%s\n", bootstraps);
      fclose(f);
    }
  }
  printf("READY %s\n", bootstraps);
  fflush(stdout);

  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGINT, &sa, NULL);
  signal(SIGPIPE, SIG_IGN);

  while (!stopping) {
    if (exit_on_eof) {
      struct pollfd p = {.fd = 0, .events = POLLIN};
      int r = poll(&p, 1, 200);
      if (r > 0) {
        char buf[256];
        ssize_t n = read(0, buf, sizeof buf);
        if (n <= 0) break;
      }
    } else {
      usleep(200 * 1000);
    }
  }
  rd_kafka_mock_cluster_destroy(mc);
  rd_kafka_destroy(rk);
  return 0;
}

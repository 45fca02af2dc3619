// Runs a program for a test: argv as given (no shell), optional standard input,
// standard output and standard error captured, the exit status reported.
// Used by the interop tests (oathtool, node) and the CLI tests.
#pragma once

#include <poll.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <csignal>
#include <cstddef>
#include <stdexcept>
#include <string>
#include <vector>

extern char** environ;  // NOLINT(readability-redundant-declaration)

namespace mfakit_test {

struct run_result {
  int exit_code = -1;  ///< the exit status, or 128 + signal number when killed
  std::string out;
  std::string err;
  bool spawned = false;  ///< false when the program could not be started at all
};

/// Runs argv[0] (searched in PATH) with the given arguments. Never throws for
/// a missing program: spawned is false and exit_code 127, which a test treats
/// as a failure like any other wrong exit code.
inline run_result run(const std::vector<std::string>& argv, const std::string& input = {}) {
  run_result r;
  if (argv.empty()) throw std::invalid_argument("run: empty argv");
  std::array<int, 2> in{-1, -1}, out{-1, -1}, err{-1, -1};
  if (pipe(in.data()) != 0 || pipe(out.data()) != 0 || pipe(err.data()) != 0)
    throw std::runtime_error("run: pipe failed");

  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, in[0], 0);
  posix_spawn_file_actions_adddup2(&fa, out[1], 1);
  posix_spawn_file_actions_adddup2(&fa, err[1], 2);
  for (int fd : {in[0], in[1], out[0], out[1], err[0], err[1]}) posix_spawn_file_actions_addclose(&fa, fd);

  std::vector<char*> args;
  args.reserve(argv.size() + 1);
  for (const auto& a : argv)
    args.push_back(const_cast<char*>(a.c_str()));  // NOLINT(cppcoreguidelines-pro-type-const-cast)
  args.push_back(nullptr);

  pid_t pid = 0;
  const int rc = posix_spawnp(&pid, args[0], &fa, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  close(in[0]);
  close(out[1]);
  close(err[1]);
  if (rc != 0) {
    close(in[1]);
    close(out[0]);
    close(err[0]);
    r.exit_code = 127;
    r.err = "could not start " + argv[0];
    return r;
  }
  r.spawned = true;

  // Feed stdin and drain stdout/stderr together so no pipe can fill up.
  std::size_t written = 0;
  if (input.empty()) {
    close(in[1]);
    in[1] = -1;
  }
  std::array<char, 65536> buf{};
  bool out_open = true, err_open = true;
  const auto old_pipe = std::signal(SIGPIPE, SIG_IGN);
  while (out_open || err_open || in[1] >= 0) {
    std::array<pollfd, 3> fds{};
    nfds_t n = 0;
    if (out_open) fds[n++] = {out[0], POLLIN, 0};
    if (err_open) fds[n++] = {err[0], POLLIN, 0};
    if (in[1] >= 0) fds[n++] = {in[1], POLLOUT, 0};
    if (poll(fds.data(), n, -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    for (nfds_t i = 0; i < n; ++i) {
      if (fds[i].revents == 0) continue;
      if (fds[i].fd == in[1]) {
        const ssize_t w = write(in[1], input.data() + written, input.size() - written);
        if (w > 0) written += static_cast<std::size_t>(w);
        if (w < 0 || written == input.size()) {
          close(in[1]);
          in[1] = -1;
        }
        continue;
      }
      const ssize_t got = read(fds[i].fd, buf.data(), buf.size());
      if (got > 0) {
        (fds[i].fd == out[0] ? r.out : r.err).append(buf.data(), static_cast<std::size_t>(got));
      } else if (got == 0 || errno != EINTR) {
        (fds[i].fd == out[0] ? out_open : err_open) = false;
      }
    }
  }
  std::signal(SIGPIPE, old_pipe);
  if (in[1] >= 0) close(in[1]);
  close(out[0]);
  close(err[0]);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFEXITED(status)) {
    r.exit_code = WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    r.exit_code = 128 + WTERMSIG(status);
  }
  return r;
}

/// Splits text into lines (without the newlines); a final newline ends the
/// last line rather than starting an empty one.
inline std::vector<std::string> lines(const std::string& text) {
  std::vector<std::string> v;
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t nl = text.find('\n', start);
    if (nl == std::string::npos) nl = text.size();
    v.push_back(text.substr(start, nl - start));
    start = nl + 1;
  }
  return v;
}

}  // namespace mfakit_test

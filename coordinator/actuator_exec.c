/* Exec backend of the actuator: runs ACTUATOR_EXEC_COMMAND once per attempt with the target
 * count as argv[1] and the command's fields in CRESC_* environment variables, in its own
 * process group so a timeout kills the whole tree. posix_spawn, not fork, because the
 * coordinator is multi-threaded. Exit status 0 is success. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "actuator_internal.h"
#include "cresc/log.h"

extern char **environ;

#define ENV_OURS   12   /* CRESC_* variables we add */
#define ENV_MAX    4096 /* inherited variables passed on */
#define OUTPUT_MAX 200  /* tail of the child's output kept for the error message */

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* "NAME=value" on the heap; NULL on OOM. */
static char *env_var(const char *name, const char *value)
{
    size_t n = strlen(name) + strlen(value) + 2;
    char *s = malloc(n);
    if (s != NULL) {
        snprintf(s, n, "%s=%s", name, value);
    }
    return s;
}

static void env_free(char **envp)
{
    if (envp == NULL) {
        return;
    }
    for (size_t i = 0; envp[i] != NULL; i++) {
        free(envp[i]);
    }
    free(envp);
}

/* The parent's environment without its CRESC_* variables (so ours cannot be shadowed),
 * plus the command's fields. */
static char **build_env(const struct cresc_scale_command *cmd)
{
    char num[8][32];
    char json[CRESC_COMMAND_MAX_BYTES];
    size_t jlen = 0;
    if (cresc_command_encode(cmd, json, sizeof json, &jlen) != 0) {
        json[0] = '\0';
    }
    snprintf(num[0], sizeof num[0], "%d", cmd->from);
    snprintf(num[1], sizeof num[1], "%d", cmd->to);
    snprintf(num[2], sizeof num[2], "%lld", (long long)cmd->config_version);
    snprintf(num[3], sizeof num[3], "%lld", (long long)cmd->owner_epoch);
    snprintf(num[4], sizeof num[4], "%lld", (long long)cmd->issued_at_ms);
    const char *ours[ENV_OURS][2] = {
        {"CRESC_SERVICE", cmd->service},
        {"CRESC_FROM", num[0]},
        {"CRESC_TO", num[1]},
        {"CRESC_TARGET", num[1]},
        {"CRESC_REASON", cmd->reason},
        {"CRESC_DECISION_ID", cmd->decision_id},
        {"CRESC_CONFIG_VERSION", num[2]},
        {"CRESC_OWNER_EPOCH", num[3]},
        {"CRESC_ISSUED_AT_MS", num[4]},
        {"CRESC_MANUAL", cmd->manual ? "true" : "false"},
        {"CRESC_REQUEST_ID", cmd->request_id},
        {"CRESC_COMMAND_JSON", json},
    };
    size_t inherited = 0;
    for (char **e = environ; e != NULL && *e != NULL && inherited < ENV_MAX; e++) {
        inherited++;
    }
    char **envp = calloc(inherited + ENV_OURS + 1, sizeof *envp);
    if (envp == NULL) {
        return NULL;
    }
    size_t k = 0;
    for (size_t i = 0; i < inherited; i++) {
        if (strncmp(environ[i], "CRESC_", 6) == 0) {
            continue;
        }
        if ((envp[k] = strdup(environ[i])) == NULL) {
            goto nomem;
        }
        k++;
    }
    for (size_t i = 0; i < ENV_OURS; i++) {
        if ((envp[k] = env_var(ours[i][0], ours[i][1])) == NULL) {
            goto nomem;
        }
        k++;
    }
    return envp;
nomem:
    env_free(envp);
    return NULL;
}

/* Keep the last OUTPUT_MAX bytes of the child's output. */
static void tail_append(char *tail, size_t *len, const char *buf, size_t n)
{
    if (n >= OUTPUT_MAX) {
        memcpy(tail, buf + n - OUTPUT_MAX, OUTPUT_MAX);
        *len = OUTPUT_MAX;
        return;
    }
    if (*len + n > OUTPUT_MAX) {
        size_t drop = *len + n - OUTPUT_MAX;
        memmove(tail, tail + drop, *len - drop);
        *len -= drop;
    }
    memcpy(tail + *len, buf, n);
    *len += n;
}

/* The last non-empty line of the output, printable characters only. */
static void last_line(const char *tail, size_t len, char *out, size_t cap)
{
    while (len > 0 && (tail[len - 1] == '\n' || tail[len - 1] == '\r')) {
        len--;
    }
    size_t start = len;
    while (start > 0 && tail[start - 1] != '\n') {
        start--;
    }
    size_t k = 0;
    for (size_t i = start; i < len && k + 1 < cap; i++) {
        unsigned char c = (unsigned char)tail[i];
        out[k++] = (char)(c >= 0x20 && c < 0x7f ? c : ' ');
    }
    out[k] = '\0';
}

/* Start the program with stdout and stderr into *out_fd (read end, non-blocking). */
static int spawn_child(const struct cresc_act_conf *conf, const struct cresc_scale_command *cmd,
                       char **envp, pid_t *pid, int *out_fd, struct cresc_act_result *res)
{
    char target[16];
    (void)snprintf(target, sizeof target, "%d", cmd->to);
    char *argv[] = {conf->exec_command, target, NULL};
    int pipefd[2] = {-1, -1};
    if (pipe(pipefd) != 0) {
        (void)snprintf(res->msg, sizeof res->msg, "pipe: %s", strerror(errno));
        return CRESC_EIO;
    }
    (void)fcntl(pipefd[0], F_SETFD, FD_CLOEXEC);
    (void)fcntl(pipefd[0], F_SETFL, O_NONBLOCK);

    posix_spawn_file_actions_t fa;
    posix_spawnattr_t attr;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, pipefd[1], 1);
    posix_spawn_file_actions_adddup2(&fa, pipefd[1], 2);
    posix_spawn_file_actions_addclose(&fa, pipefd[1]);
    posix_spawnattr_init(&attr);
    /* Own process group (killed as a whole on timeout); a clean signal mask and default
     * dispositions, since this thread blocks most signals and the daemon may ignore SIGPIPE. */
    sigset_t none, all;
    sigemptyset(&none);
    sigfillset(&all);
    posix_spawnattr_setpgroup(&attr, 0);
    posix_spawnattr_setsigmask(&attr, &none);
    posix_spawnattr_setsigdefault(&attr, &all);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK |
                                        POSIX_SPAWN_SETSIGDEF);
    int serr = posix_spawn(pid, conf->exec_command, &fa, &attr, argv, envp);
    posix_spawnattr_destroy(&attr);
    posix_spawn_file_actions_destroy(&fa);
    close(pipefd[1]);
    if (serr != 0) {
        close(pipefd[0]);
        (void)snprintf(res->msg, sizeof res->msg, "cannot run %s: %s", conf->exec_command,
                       strerror(serr));
        res->permanent = serr == ENOENT || serr == EACCES || serr == ENOEXEC;
        return CRESC_EIO;
    }
    *out_fd = pipefd[0];
    return 0;
}

/* Read what is available from fd into the tail; false at end of file or on an error. */
static bool read_some(int fd, char *tail, size_t *tail_len)
{
    char buf[1024];
    ssize_t n = read(fd, buf, sizeof buf);
    if (n > 0) {
        tail_append(tail, tail_len, buf, (size_t)n);
        return true;
    }
    return n < 0 && (errno == EAGAIN || errno == EINTR);
}

enum child_end { CHILD_EXITED, CHILD_TIMED_OUT, CHILD_ABORTED };

/* Collect output until the child exits, the deadline passes or `stop` is set (then the
 * whole process group is killed). Always reaps the child. */
static enum child_end wait_child(pid_t pid, int fd, long timeout_ms, const atomic_bool *stop,
                                 int *wstatus, char *tail, size_t *tail_len)
{
    bool eof = false;
    int64_t deadline = mono_ms() + timeout_ms;
    for (;;) {
        if (!eof) {
            struct pollfd p = {.fd = fd, .events = POLLIN};
            if (poll(&p, 1, 20) > 0) {
                eof = !read_some(fd, tail, tail_len);
            }
        } else {
            struct timespec ts = {0, 10 * 1000000L};
            nanosleep(&ts, NULL);
        }
        if (waitpid(pid, wstatus, WNOHANG) == pid) {
            break;
        }
        bool late = mono_ms() >= deadline;
        if (late || atomic_load(stop)) {
            kill(-pid, SIGKILL);
            kill(pid, SIGKILL);
            waitpid(pid, wstatus, 0);
            return late ? CHILD_TIMED_OUT : CHILD_ABORTED;
        }
    }
    /* what the child wrote just before exiting */
    for (int i = 0; i < 64 && read_some(fd, tail, tail_len); i++) {
    }
    return CHILD_EXITED;
}

int cresc_act_exec_apply(const struct cresc_act_conf *conf, const struct cresc_scale_command *cmd,
                         const atomic_bool *stop, struct cresc_act_result *res)
{
    pid_t pid = -1;
    int fd = -1;
    char **envp = build_env(cmd);
    if (envp == NULL) {
        (void)snprintf(res->msg, sizeof res->msg, "out of memory");
        return CRESC_ENOMEM;
    }
    int rc = spawn_child(conf, cmd, envp, &pid, &fd, res);
    env_free(envp);
    if (rc != 0) {
        return rc;
    }
    char tail[OUTPUT_MAX];
    size_t tail_len = 0;
    int wstatus = 0;
    enum child_end end = wait_child(pid, fd, conf->timeout_ms, stop, &wstatus, tail, &tail_len);
    close(fd);

    char line[120];
    last_line(tail, tail_len, line, sizeof line);
    const char *sep = line[0] != '\0' ? ": " : "";
    if (end == CHILD_TIMED_OUT) {
        (void)snprintf(res->msg, sizeof res->msg, "%s timed out after %ld ms%s%s",
                       conf->exec_command, conf->timeout_ms, sep, line);
        return CRESC_ETIMEDOUT;
    }
    if (end == CHILD_ABORTED) {
        (void)snprintf(res->msg, sizeof res->msg, "%s killed: shutting down", conf->exec_command);
        return CRESC_ESTATE;
    }
    if (WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == 0) {
        return 0;
    }
    if (WIFEXITED(wstatus)) {
        (void)snprintf(res->msg, sizeof res->msg, "%s exited with status %d%s%s",
                       conf->exec_command, WEXITSTATUS(wstatus), sep, line);
    } else {
        (void)snprintf(res->msg, sizeof res->msg, "%s killed by signal %d%s%s", conf->exec_command,
                       WIFSIGNALED(wstatus) ? WTERMSIG(wstatus) : 0, sep, line);
    }
    return CRESC_EIO;
}

/*
 * strictfs: an LD_PRELOAD layer under which a process's files behave like a disk that
 * loses power. Built and driven by signet-chaos's `strictfs` module; see there for why.
 *
 * For every regular file under $STRICTFS_ROOT it records, before each write or
 * truncation, the bytes and the size the operation is about to replace, and after each
 * successful fsync/fdatasync that the file is synced. Namespace changes under the root
 * (create, mkdir, rename, unlink) are recorded too, and a directory fsync marks them
 * synced. The record is an undo journal ($STRICTFS_JOURNAL/journal, plus hard links that
 * keep each written inode and each replaced or unlinked file reachable). After the process
 * is killed, the rollback (Rust side) undoes, newest first, every change not covered by a
 * later sync: each file is left exactly as of its last fsync, each directory as of its
 * last fsync. Writes really go to the file first, so the running process sees what a
 * process sees with a page cache.
 *
 * $STRICTFS_CONTROL names a file of `key=value` lines, re-read at most every 100 ms,
 * that turns disk faults on and off for tracked files:
 *   write_delay_ms=N   sleep N ms before each write (a slow disk)
 *   sync_delay_ms=N    sleep N ms before each fsync/fdatasync
 *   enospc=1           writes that would grow a file fail with ENOSPC (a full disk)
 *   sync_eio=1         fsync/fdatasync fail with EIO and sync nothing
 *
 * Not modelled: torn writes inside one write call, mmap writes, raw syscalls that bypass
 * libc, sync_file_range (never durable), and files outside the root.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#define MAX_FD 65536
#define MAX_INODES 65536

enum { UNTRACKED = 0, TRACKED_FILE = 1, TRACKED_DIR = 2 };

static int enabled;
static char root[PATH_MAX];
static size_t root_len;
static char jdir[PATH_MAX];
static char control[PATH_MAX];
static int jfd = -1;
static unsigned long long seq;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;

static volatile unsigned char kind_of[MAX_FD];
static ino_t ino_of[MAX_FD];
static char *dir_of[MAX_FD];
/* Each written inode: its journal link, open read-only (the process's own fd may be
 * write-only) to read what a write is about to replace. */
static ino_t linked[MAX_INODES];
static int linked_fd[MAX_INODES];
static size_t n_linked;

static int write_delay_ms, sync_delay_ms, enospc, sync_eio;
static struct timespec control_read_at;

static int (*real_open)(const char *, int, ...);
static int (*real_open64)(const char *, int, ...);
static int (*real_openat)(int, const char *, int, ...);
static int (*real_openat64)(int, const char *, int, ...);
static int (*real_close)(int);
static ssize_t (*real_writev)(int, const struct iovec *, int);
static ssize_t (*real_pwrite)(int, const void *, size_t, off_t);
static ssize_t (*real_pwrite64)(int, const void *, size_t, off_t);
static ssize_t (*real_pwritev)(int, const struct iovec *, int, off_t);
static int (*real_ftruncate)(int, off_t);
static int (*real_ftruncate64)(int, off_t);
static int (*real_fsync)(int);
static int (*real_fdatasync)(int);
static int (*real_rename)(const char *, const char *);
static int (*real_renameat)(int, const char *, int, const char *);
static int (*real_unlink)(const char *);
static int (*real_unlinkat)(int, const char *, int);
static int (*real_mkdir)(const char *, mode_t);

static ssize_t (*real_write)(int, const void *, size_t);

static void die(const char *what) {
  char buf[512];
  int n = snprintf(buf, sizeof buf, "strictfs: %s: %s\n", what, strerror(errno));
  if (n > 0 && real_write) {
    ssize_t ignored = real_write(2, buf, (size_t)n);
    (void)ignored;
  }
  abort();
}

#define RESOLVE(name)                                                    \
  do {                                                                   \
    *(void **)(&real_##name) = dlsym(RTLD_NEXT, #name);                  \
  } while (0)

__attribute__((constructor)) static void strictfs_init(void) {
  RESOLVE(open); RESOLVE(open64); RESOLVE(openat); RESOLVE(openat64); RESOLVE(close);
  RESOLVE(write); RESOLVE(writev); RESOLVE(pwrite); RESOLVE(pwrite64); RESOLVE(pwritev);
  RESOLVE(ftruncate); RESOLVE(ftruncate64); RESOLVE(fsync); RESOLVE(fdatasync);
  RESOLVE(rename); RESOLVE(renameat); RESOLVE(unlink); RESOLVE(unlinkat); RESOLVE(mkdir);
  const char *r = getenv("STRICTFS_ROOT");
  const char *j = getenv("STRICTFS_JOURNAL");
  if (!r || !j) return;
  if (!realpath(r, root)) die("STRICTFS_ROOT");
  root_len = strlen(root);
  if (!realpath(j, jdir)) die("STRICTFS_JOURNAL");
  const char *c = getenv("STRICTFS_CONTROL");
  if (c) snprintf(control, sizeof control, "%s", c);
  char path[PATH_MAX];
  snprintf(path, sizeof path, "%s/journal", jdir);
  jfd = real_open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (jfd < 0) die("journal");
  /* The variables stay: a wrapper that execs the real program (a shell script, say)
   * hands them on. One process may write under a root at a time: two would interleave
   * their journal records. */
  enabled = 1;
}

static int under_root(const char *abs) {
  return strncmp(abs, root, root_len) == 0 && (abs[root_len] == '/' || abs[root_len] == 0);
}

/* The absolute path of `path` as seen from `dirfd` (the parent must exist). */
static int absolute(int dirfd, const char *path, char *out) {
  if (path[0] == '/') {
    snprintf(out, PATH_MAX, "%s", path);
  } else {
    char link[64], base[PATH_MAX];
    ssize_t n;
    if (dirfd == AT_FDCWD) {
      if (!getcwd(base, sizeof base)) return -1;
    } else {
      snprintf(link, sizeof link, "/proc/self/fd/%d", dirfd);
      n = readlink(link, base, sizeof base - 1);
      if (n < 0) return -1;
      base[n] = 0;
    }
    snprintf(out, PATH_MAX, "%s/%s", base, path);
  }
  /* Resolve the parent, keep the last component: the file itself may not exist. */
  char *slash = strrchr(out, '/');
  char parent[PATH_MAX], resolved[PATH_MAX], leaf[NAME_MAX + 1];
  if (!slash) return -1;
  snprintf(leaf, sizeof leaf, "%s", slash + 1);
  if (slash == out) snprintf(parent, sizeof parent, "/");
  else { memcpy(parent, out, (size_t)(slash - out)); parent[slash - out] = 0; }
  if (!realpath(parent, resolved)) return -1;
  snprintf(out, PATH_MAX, "%s/%s", strcmp(resolved, "/") == 0 ? "" : resolved, leaf);
  return 0;
}

static void put(const void *buf, size_t n) {
  const char *p = buf;
  while (n > 0) {
    ssize_t w = real_write(jfd, p, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      die("journal write");
    }
    p += w;
    n -= (size_t)w;
  }
}

static void record(const char *fmt, ...) {
  char line[3 * PATH_MAX + 64];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(line, sizeof line, fmt, ap);
  va_end(ap);
  put(line, (size_t)n);
}

/* Keep inode `ino` (open as `fd`) reachable from the journal, once; a read-only fd of it.
 * Called locked. */
static int link_inode(int fd, ino_t ino) {
  for (size_t i = 0; i < n_linked; i++)
    if (linked[i] == ino) return linked_fd[i];
  char from[64], to[PATH_MAX];
  snprintf(from, sizeof from, "/proc/self/fd/%d", fd);
  snprintf(to, sizeof to, "%s/ino-%llu", jdir, (unsigned long long)ino);
  if (linkat(AT_FDCWD, from, AT_FDCWD, to, AT_SYMLINK_FOLLOW) < 0 && errno != EEXIST)
    die("link inode");
  int rfd = real_open(to, O_RDONLY | O_CLOEXEC);
  if (rfd < 0) die("open inode link");
  if (n_linked == MAX_INODES) die("too many files written");
  linked[n_linked] = ino;
  linked_fd[n_linked++] = rfd;
  return rfd;
}

/* Record what [off, off+len) of the file and its size are before they change. Locked. */
static void save_range(int fd, ino_t ino, off_t off, size_t len) {
  struct stat st;
  if (fstat(fd, &st) < 0) die("fstat");
  int rfd = link_inode(fd, ino);
  off_t size = st.st_size;
  size_t keep = 0;
  if (off < size) keep = (size_t)(size - off) < len ? (size_t)(size - off) : len;
  record("W %llu %lld %lld %zu %zu\n", (unsigned long long)ino, (long long)off,
         (long long)size, keep, len);
  char buf[65536];
  size_t done = 0;
  while (done < keep) {
    size_t want = keep - done < sizeof buf ? keep - done : sizeof buf;
    ssize_t r = pread(rfd, buf, want, off + (off_t)done);
    if (r <= 0) die("pread");
    put(buf, (size_t)r);
    done += (size_t)r;
  }
}

static long ms_since(const struct timespec *t) {
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return (now.tv_sec - t->tv_sec) * 1000 + (now.tv_nsec - t->tv_nsec) / 1000000;
}

static void read_control(void) {
  if (!control[0] || (control_read_at.tv_sec && ms_since(&control_read_at) < 100)) return;
  clock_gettime(CLOCK_MONOTONIC, &control_read_at);
  int wd = 0, sd = 0, full = 0, eio = 0;
  FILE *f = fopen(control, "re");
  if (f) {
    char key[64];
    int v;
    while (fscanf(f, " %63[^=]=%d", key, &v) == 2) {
      if (!strcmp(key, "write_delay_ms")) wd = v;
      else if (!strcmp(key, "sync_delay_ms")) sd = v;
      else if (!strcmp(key, "enospc")) full = v;
      else if (!strcmp(key, "sync_eio")) eio = v;
    }
    fclose(f);
  }
  write_delay_ms = wd;
  sync_delay_ms = sd;
  enospc = full;
  sync_eio = eio;
}

static void sleep_ms(int ms) {
  if (ms <= 0) return;
  struct timespec t = {ms / 1000, (long)(ms % 1000) * 1000000};
  while (nanosleep(&t, &t) < 0 && errno == EINTR) {
  }
}

/* Is `fd` a tracked regular file still? (An fd closed behind our back and reused is not.) */
static int tracked_file(int fd, ino_t *ino) {
  if (!enabled || fd < 0 || fd >= MAX_FD || kind_of[fd] != TRACKED_FILE) return 0;
  struct stat st;
  if (fstat(fd, &st) < 0 || st.st_ino != ino_of[fd]) {
    kind_of[fd] = UNTRACKED;
    return 0;
  }
  *ino = st.st_ino;
  return 1;
}

/* Before a write of `len` bytes at `off` (-1: the current offset) to tracked `fd`:
 * the fault, if any, and the undo record. Returns 0, or -1 with errno set. Locked. */
static int before_write(int fd, ino_t ino, off_t off, size_t len) {
  read_control();
  sleep_ms(write_delay_ms);
  if (off < 0) {
    int fl = fcntl(fd, F_GETFL);
    struct stat st;
    if (fl >= 0 && (fl & O_APPEND)) {
      if (fstat(fd, &st) < 0) return -1;
      off = st.st_size;
    } else {
      off = lseek(fd, 0, SEEK_CUR);
      if (off < 0) return -1;
    }
  }
  if (enospc) {
    struct stat st;
    if (fstat(fd, &st) == 0 && off + (off_t)len > st.st_size) {
      errno = ENOSPC;
      return -1;
    }
  }
  save_range(fd, ino, off, len);
  return 0;
}

static void track(int fd) {
  if (!enabled || fd < 0 || fd >= MAX_FD) return;
  char link[64], abs[PATH_MAX];
  struct stat st;
  kind_of[fd] = UNTRACKED;
  snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
  ssize_t n = readlink(link, abs, sizeof abs - 1);
  if (n < 0) return;
  abs[n] = 0;
  if (!under_root(abs) || fstat(fd, &st) < 0) return;
  if (S_ISREG(st.st_mode)) {
    ino_of[fd] = st.st_ino;
    kind_of[fd] = TRACKED_FILE;
  } else if (S_ISDIR(st.st_mode)) {
    pthread_mutex_lock(&mu);
    free(dir_of[fd]);
    dir_of[fd] = strdup(abs);
    kind_of[fd] = TRACKED_DIR;
    pthread_mutex_unlock(&mu);
  }
}

static int do_open(int dirfd, const char *path, int flags, mode_t mode,
                   int (*real)(int, const char *, int, ...), int use_at,
                   int (*real_plain)(const char *, int, ...)) {
  char abs[PATH_MAX];
  int watched = enabled && (flags & (O_CREAT | O_TRUNC)) && absolute(dirfd, path, abs) == 0 &&
                under_root(abs);
  int existed = 0;
  if (watched) {
    pthread_mutex_lock(&mu);
    struct stat st;
    existed = stat(abs, &st) == 0;
    if (existed && S_ISREG(st.st_mode) && (flags & O_TRUNC) && st.st_size > 0 &&
        (flags & O_ACCMODE) != O_RDONLY) {
      int rfd = real_open(abs, O_RDONLY | O_CLOEXEC);
      if (rfd < 0) die("open for truncation");
      save_range(rfd, st.st_ino, 0, (size_t)st.st_size);
      real_close(rfd);
    }
  }
  int fd = use_at ? real(dirfd, path, flags, mode) : real_plain(path, flags, mode);
  if (watched) {
    if (fd >= 0 && !existed) record("C %s\n", abs);
    pthread_mutex_unlock(&mu);
  }
  track(fd);
  return fd;
}

static mode_t mode_arg(int flags, va_list ap) {
  return (flags & (O_CREAT | O_TMPFILE)) ? (mode_t)va_arg(ap, int) : 0;
}

int open(const char *path, int flags, ...) {
  va_list ap;
  va_start(ap, flags);
  mode_t m = mode_arg(flags, ap);
  va_end(ap);
  return do_open(AT_FDCWD, path, flags, m, NULL, 0, real_open);
}

int open64(const char *path, int flags, ...) {
  va_list ap;
  va_start(ap, flags);
  mode_t m = mode_arg(flags, ap);
  va_end(ap);
  return do_open(AT_FDCWD, path, flags, m, NULL, 0, real_open64);
}

int openat(int dirfd, const char *path, int flags, ...) {
  va_list ap;
  va_start(ap, flags);
  mode_t m = mode_arg(flags, ap);
  va_end(ap);
  return do_open(dirfd, path, flags, m, real_openat, 1, NULL);
}

int openat64(int dirfd, const char *path, int flags, ...) {
  va_list ap;
  va_start(ap, flags);
  mode_t m = mode_arg(flags, ap);
  va_end(ap);
  return do_open(dirfd, path, flags, m, real_openat64, 1, NULL);
}

int close(int fd) {
  if (enabled && fd >= 0 && fd < MAX_FD && kind_of[fd] != UNTRACKED) {
    pthread_mutex_lock(&mu);
    kind_of[fd] = UNTRACKED;
    free(dir_of[fd]);
    dir_of[fd] = NULL;
    pthread_mutex_unlock(&mu);
  }
  return real_close(fd);
}

static size_t iov_len(const struct iovec *iov, int n) {
  size_t len = 0;
  for (int i = 0; i < n; i++) len += iov[i].iov_len;
  return len;
}

#define WRITE_BODY(off, len, call)                     \
  ino_t ino;                                           \
  if (!tracked_file(fd, &ino)) return call;            \
  pthread_mutex_lock(&mu);                             \
  ssize_t ret = before_write(fd, ino, off, len);       \
  if (ret == 0) ret = call;                            \
  int saved_errno = errno;                             \
  pthread_mutex_unlock(&mu);                           \
  errno = saved_errno;                                 \
  return ret;

ssize_t write(int fd, const void *buf, size_t n) { WRITE_BODY(-1, n, real_write(fd, buf, n)) }

ssize_t writev(int fd, const struct iovec *iov, int cnt) {
  WRITE_BODY(-1, iov_len(iov, cnt), real_writev(fd, iov, cnt))
}

ssize_t pwrite(int fd, const void *buf, size_t n, off_t off) {
  WRITE_BODY(off, n, real_pwrite(fd, buf, n, off))
}

ssize_t pwrite64(int fd, const void *buf, size_t n, off_t off) {
  WRITE_BODY(off, n, real_pwrite64(fd, buf, n, off))
}

ssize_t pwritev(int fd, const struct iovec *iov, int cnt, off_t off) {
  WRITE_BODY(off, iov_len(iov, cnt), real_pwritev(fd, iov, cnt, off))
}

static int do_truncate(int fd, off_t len, int (*real)(int, off_t)) {
  ino_t ino;
  if (!tracked_file(fd, &ino)) return real(fd, len);
  pthread_mutex_lock(&mu);
  struct stat st;
  int ret = 0;
  read_control();
  if (fstat(fd, &st) < 0) ret = -1;
  else if (enospc && len > st.st_size) {
    errno = ENOSPC;
    ret = -1;
  } else {
    /* Shrinking loses [len, size); growing loses nothing but the size. */
    save_range(fd, ino, len, len < st.st_size ? (size_t)(st.st_size - len) : 0);
    ret = real(fd, len);
  }
  int saved_errno = errno;
  pthread_mutex_unlock(&mu);
  errno = saved_errno;
  return ret;
}

int ftruncate(int fd, off_t len) { return do_truncate(fd, len, real_ftruncate); }
int ftruncate64(int fd, off_t len) { return do_truncate(fd, len, real_ftruncate64); }

static int do_sync(int fd, int (*real)(int)) {
  if (!enabled || fd < 0 || fd >= MAX_FD || kind_of[fd] == UNTRACKED) return real(fd);
  ino_t ino = 0;
  int is_file = kind_of[fd] == TRACKED_FILE;
  if (is_file && !tracked_file(fd, &ino)) return real(fd);
  pthread_mutex_lock(&mu);
  read_control();
  int delay = sync_delay_ms, fail = sync_eio;
  pthread_mutex_unlock(&mu);
  sleep_ms(delay);
  if (fail) {
    errno = EIO;
    return -1;
  }
  /* Writes that finish after the sync starts are not covered by it: take the lock so none
   * is in flight, and record the sync before any later write is recorded. */
  pthread_mutex_lock(&mu);
  int ret = real(fd);
  int saved_errno = errno;
  if (ret == 0) {
    if (is_file) record("S %llu\n", (unsigned long long)ino);
    else if (dir_of[fd]) record("D %s\n", dir_of[fd]);
  }
  pthread_mutex_unlock(&mu);
  errno = saved_errno;
  return ret;
}

int fsync(int fd) { return do_sync(fd, real_fsync); }
int fdatasync(int fd) { return do_sync(fd, real_fdatasync); }

/* Keep the file at `abs` reachable as journal entry `tag-<seq>`; its name there. Locked. */
static int save_file(const char *abs, const char *tag, char *name) {
  struct stat st;
  if (lstat(abs, &st) < 0) return 0;
  char to[PATH_MAX];
  /* The pid too: a process that ended without a power loss leaves its journal to the
   * next one. */
  snprintf(name, NAME_MAX, "%s-%ld-%llu", tag, (long)getpid(), ++seq);
  snprintf(to, sizeof to, "%s/%s", jdir, name);
  if (S_ISDIR(st.st_mode)) return 0;
  if (link(abs, to) < 0) die("link saved file");
  return 1;
}

static int do_rename(int olddirfd, const char *from, int newdirfd, const char *to, int use_at) {
  char a[PATH_MAX], b[PATH_MAX], saved[NAME_MAX + 1] = "-";
  int watched = enabled && absolute(olddirfd, from, a) == 0 &&
                absolute(newdirfd, to, b) == 0 && (under_root(a) || under_root(b));
  if (!watched) return use_at ? real_renameat(olddirfd, from, newdirfd, to) : real_rename(from, to);
  pthread_mutex_lock(&mu);
  if (!save_file(b, "old", saved)) snprintf(saved, sizeof saved, "-");
  int ret = use_at ? real_renameat(olddirfd, from, newdirfd, to) : real_rename(from, to);
  int saved_errno = errno;
  if (ret == 0) record("R %s\t%s\t%s\n", a, b, saved);
  pthread_mutex_unlock(&mu);
  errno = saved_errno;
  return ret;
}

int rename(const char *from, const char *to) { return do_rename(AT_FDCWD, from, AT_FDCWD, to, 0); }
int renameat(int od, const char *from, int nd, const char *to) {
  return do_rename(od, from, nd, to, 1);
}

static int do_unlink(int dirfd, const char *path, int flags, int use_at) {
  char abs[PATH_MAX], saved[NAME_MAX + 1];
  int watched = enabled && !(flags & AT_REMOVEDIR) && absolute(dirfd, path, abs) == 0 &&
                under_root(abs);
  if (!watched) return use_at ? real_unlinkat(dirfd, path, flags) : real_unlink(path);
  pthread_mutex_lock(&mu);
  int kept = save_file(abs, "unlinked", saved);
  int ret = use_at ? real_unlinkat(dirfd, path, flags) : real_unlink(path);
  int saved_errno = errno;
  if (ret == 0 && kept) record("U %s\t%s\n", abs, saved);
  pthread_mutex_unlock(&mu);
  errno = saved_errno;
  return ret;
}

int unlink(const char *path) { return do_unlink(AT_FDCWD, path, 0, 0); }
int unlinkat(int dirfd, const char *path, int flags) { return do_unlink(dirfd, path, flags, 1); }

int mkdir(const char *path, mode_t mode) {
  char abs[PATH_MAX];
  int watched = enabled && absolute(AT_FDCWD, path, abs) == 0 && under_root(abs);
  if (!watched) return real_mkdir(path, mode);
  pthread_mutex_lock(&mu);
  int ret = real_mkdir(path, mode);
  int saved_errno = errno;
  if (ret == 0) record("M %s\n", abs);
  pthread_mutex_unlock(&mu);
  errno = saved_errno;
  return ret;
}

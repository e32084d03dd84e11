// The system calls the audit normaliser turns into rows, by audit architecture and number, and
// what each one means for the rows. Numbers: the kernel's syscall tables per architecture
// (arch/x86/entry/syscalls/*.tbl, include/uapi/asm-generic/unistd.h). Data, not code.

/** What a system call does, as far as the rows are concerned. */
export const syscallKinds = [
  'exec',
  'socket',
  'connect',
  'accept',
  'open',
  'creat',
  'unlink',
  'rename',
] as const;
export type SyscallKind = (typeof syscallKinds)[number];

/** The audit `arch=` values (AUDIT_ARCH_* in include/uapi/linux/audit.h) this table knows. */
export const auditArches = { c000003e: 'x86_64', '40000003': 'i386', c00000b7: 'aarch64' } as const;
export type AuditArch = (typeof auditArches)[keyof typeof auditArches];

/** The system calls by name: their kind and, for path calls, which argument holds the flags or dirfd. */
export const syscalls: Readonly<Record<string, { kind: SyscallKind; flagsArg?: number; dirfdArg?: number }>> =
  {
    execve: { kind: 'exec' },
    execveat: { kind: 'exec' },
    socket: { kind: 'socket' },
    connect: { kind: 'connect' },
    accept: { kind: 'accept' },
    accept4: { kind: 'accept' },
    open: { kind: 'open', flagsArg: 1 },
    openat: { kind: 'open', flagsArg: 2, dirfdArg: 0 },
    // openat2 passes its flags in a struct the audit record does not show
    openat2: { kind: 'open', dirfdArg: 0 },
    creat: { kind: 'creat' },
    unlink: { kind: 'unlink' },
    unlinkat: { kind: 'unlink', dirfdArg: 0 },
    rename: { kind: 'rename' },
    renameat: { kind: 'rename', dirfdArg: 0 },
    renameat2: { kind: 'rename', dirfdArg: 0 },
  };

/** Syscall numbers of those calls on each architecture. */
export const syscallNumbers: Readonly<Record<AuditArch, Readonly<Record<number, string>>>> = {
  x86_64: {
    2: 'open',
    41: 'socket',
    42: 'connect',
    43: 'accept',
    59: 'execve',
    82: 'rename',
    85: 'creat',
    87: 'unlink',
    257: 'openat',
    263: 'unlinkat',
    264: 'renameat',
    288: 'accept4',
    316: 'renameat2',
    322: 'execveat',
    437: 'openat2',
  },
  i386: {
    5: 'open',
    8: 'creat',
    10: 'unlink',
    11: 'execve',
    38: 'rename',
    102: 'socketcall',
    295: 'openat',
    301: 'unlinkat',
    302: 'renameat',
    353: 'renameat2',
    358: 'execveat',
    359: 'socket',
    362: 'connect',
    364: 'accept4',
    437: 'openat2',
  },
  aarch64: {
    35: 'unlinkat',
    38: 'renameat',
    56: 'openat',
    198: 'socket',
    202: 'accept',
    203: 'connect',
    221: 'execve',
    242: 'accept4',
    276: 'renameat2',
    281: 'execveat',
    437: 'openat2',
  },
};

/** i386 multiplexes socket calls through socketcall; its first argument names the call. */
export const socketcallCalls: Readonly<Record<number, string>> = {
  1: 'socket',
  3: 'connect',
  5: 'accept',
  18: 'accept4',
};

/** Errno values the rows tell apart (include/uapi/asm-generic/errno.h). */
export const errno = { EINPROGRESS: 115 } as const;

/** `AT_FDCWD` as the audit record shows a 32-bit -100. */
export const atFdCwd = 'ffffff9c';

/**
 * Errors as values. Every failure a client can see is a `CairnError` whose `kind` maps, in the
 * one table below, to etcd's gRPC code and message; the HTTP layer turns the code into the
 * status etcd's gateway uses. Never build an error message at a throw site: add a kind here.
 *
 * This module imports nothing of ours, so every part may import it.
 */

/** gRPC status codes (google.golang.org/grpc/codes). */
export const GrpcCode = {
  OK: 0,
  Canceled: 1,
  Unknown: 2,
  InvalidArgument: 3,
  DeadlineExceeded: 4,
  NotFound: 5,
  AlreadyExists: 6,
  PermissionDenied: 7,
  ResourceExhausted: 8,
  FailedPrecondition: 9,
  Aborted: 10,
  OutOfRange: 11,
  Unimplemented: 12,
  Internal: 13,
  Unavailable: 14,
  DataLoss: 15,
  Unauthenticated: 16,
} as const;
export type GrpcCode = (typeof GrpcCode)[keyof typeof GrpcCode];

/** HTTP status that etcd 3.4's grpc-gateway answers for each gRPC code. */
export function httpStatusOf(code: GrpcCode): number {
  switch (code) {
    case GrpcCode.OK: return 200;
    case GrpcCode.Canceled: return 408;
    case GrpcCode.InvalidArgument: return 400;
    case GrpcCode.DeadlineExceeded: return 504;
    case GrpcCode.NotFound: return 404;
    case GrpcCode.AlreadyExists: return 409;
    case GrpcCode.PermissionDenied: return 403;
    case GrpcCode.ResourceExhausted: return 429;
    case GrpcCode.FailedPrecondition: return 412;
    case GrpcCode.Aborted: return 409;
    case GrpcCode.OutOfRange: return 400;
    case GrpcCode.Unimplemented: return 501;
    case GrpcCode.Unavailable: return 503;
    case GrpcCode.Unauthenticated: return 401;
    default: return 500;
  }
}

/** The gRPC name of a code (`PermissionDenied`), as Go's status errors print it. */
export function grpcCodeName(code: GrpcCode): string {
  return Object.entries(GrpcCode).find(([, v]) => v === code)?.[0] ?? 'Unknown';
}

const C = GrpcCode;

/** The one table: kind → gRPC code and etcd's exact message. */
export const ERRORS = {
  // request shape
  EmptyKey: [C.InvalidArgument, 'etcdserver: key is not provided'],
  KeyNotFound: [C.InvalidArgument, 'etcdserver: key not found'],
  ValueProvided: [C.InvalidArgument, 'etcdserver: value is provided'],
  LeaseProvided: [C.InvalidArgument, 'etcdserver: lease is provided'],
  TooManyOps: [C.InvalidArgument, 'etcdserver: too many operations in txn request'],
  DuplicateKey: [C.InvalidArgument, 'etcdserver: duplicate key given in txn request'],
  RequestTooLarge: [C.InvalidArgument, 'etcdserver: request is too large'],
  TooManyRequests: [C.ResourceExhausted, 'etcdserver: too many requests'],
  /** Cairn's own limit: LMDB bounds key length (see docs/architecture.md). */
  KeyTooLarge: [C.InvalidArgument, 'etcdserver: key is too large'],
  /** Malformed input that etcd's gateway rejects before the server sees it. */
  BadRequest: [C.InvalidArgument, 'bad request'],
  // mvcc
  Compacted: [C.OutOfRange, 'etcdserver: mvcc: required revision has been compacted'],
  FutureRev: [C.OutOfRange, 'etcdserver: mvcc: required revision is a future revision'],
  NoSpace: [C.ResourceExhausted, 'etcdserver: mvcc: database space exceeded'],
  // lease
  LeaseNotFound: [C.NotFound, 'etcdserver: requested lease not found'],
  LeaseExist: [C.FailedPrecondition, 'etcdserver: lease already exists'],
  LeaseTTLTooLarge: [C.OutOfRange, 'etcdserver: too large lease TTL'],
  // membership
  MemberExist: [C.FailedPrecondition, 'etcdserver: member ID already exist'],
  PeerURLExist: [C.FailedPrecondition, 'etcdserver: Peer URLs already exists'],
  MemberNotEnoughStarted: [C.FailedPrecondition, 'etcdserver: re-configuration failed due to not enough started members'],
  MemberBadURLs: [C.InvalidArgument, 'etcdserver: given member URLs are invalid'],
  MemberNotFound: [C.NotFound, 'etcdserver: member not found'],
  MemberNotLearner: [C.FailedPrecondition, 'etcdserver: can only promote a learner member'],
  LearnerNotReady: [C.FailedPrecondition, 'etcdserver: can only promote a learner member which is in sync with leader'],
  TooManyLearners: [C.FailedPrecondition, 'etcdserver: too many learner members in cluster'],
  // auth
  RootUserNotExist: [C.FailedPrecondition, 'etcdserver: root user does not exist'],
  RootRoleNotExist: [C.FailedPrecondition, 'etcdserver: root user does not have root role'],
  UserAlreadyExist: [C.FailedPrecondition, 'etcdserver: user name already exists'],
  UserEmpty: [C.InvalidArgument, 'etcdserver: user name is empty'],
  UserNotFound: [C.FailedPrecondition, 'etcdserver: user name not found'],
  RoleAlreadyExist: [C.FailedPrecondition, 'etcdserver: role name already exists'],
  RoleNotFound: [C.FailedPrecondition, 'etcdserver: role name not found'],
  RoleEmpty: [C.InvalidArgument, 'etcdserver: role name is empty'],
  AuthFailed: [C.InvalidArgument, 'etcdserver: authentication failed, invalid user ID or password'],
  PermissionDenied: [C.PermissionDenied, 'etcdserver: permission denied'],
  RoleNotGranted: [C.FailedPrecondition, 'etcdserver: role is not granted to the user'],
  PermissionNotGranted: [C.FailedPrecondition, 'etcdserver: permission is not granted to the role'],
  AuthNotEnabled: [C.FailedPrecondition, 'etcdserver: authentication is not enabled'],
  InvalidAuthToken: [C.Unauthenticated, 'etcdserver: invalid auth token'],
  InvalidAuthMgmt: [C.InvalidArgument, 'etcdserver: invalid auth management'],
  /** etcd 3.4 answers this one as an unknown error (500, code 2), with this text. */
  NoPasswordUser: [C.Unknown, 'auth: authentication failed, password was given for no password user'],
  /** etcd 3.4's maintenance service passes the auth package's own errors through untranslated. */
  RawAuthUserEmpty: [C.Unknown, 'auth: user name is empty'],
  RawAuthUserNotFound: [C.Unknown, 'auth: user name not found'],
  RawAuthPermissionDenied: [C.Unknown, 'auth: permission denied'],
  /** A role grant without a permission: etcd 3.4 crashes on it; Cairn refuses it. */
  PermissionMissing: [C.InvalidArgument, 'etcdserver: permission is not given'],
  // cluster and server state
  NoLeader: [C.Unavailable, 'etcdserver: no leader'],
  NotLeader: [C.FailedPrecondition, 'etcdserver: not leader'],
  LeaderChanged: [C.Unavailable, 'etcdserver: leader changed'],
  NotCapable: [C.Unavailable, 'etcdserver: not capable'],
  Stopped: [C.Unavailable, 'etcdserver: server stopped'],
  Timeout: [C.Unavailable, 'etcdserver: request timed out'],
  TimeoutDueToLeaderFail: [C.Unavailable, 'etcdserver: request timed out, possibly due to previous leader failure'],
  TimeoutDueToConnectionLost: [C.Unavailable, 'etcdserver: request timed out, possibly due to connection lost'],
  Unhealthy: [C.Unavailable, 'etcdserver: unhealthy cluster'],
  Corrupt: [C.DataLoss, 'etcdserver: corrupt cluster'],
  StoreSwapping: [C.Unavailable, 'etcdserver: the store is being replaced (snapshot install or defragment); retry'],
  NotSupportedForLearner: [C.Unavailable, 'etcdserver: rpc not supported for learner'],
  BadLeaderTransferee: [C.FailedPrecondition, 'etcdserver: bad leader transferee'],
  // election
  ElectionNotLeader: [C.FailedPrecondition, 'election: not leader'],
  ElectionNoLeader: [C.NotFound, 'election: no leader'],
  // anything unexpected
  Internal: [C.Unknown, 'etcdserver: internal error'],
} as const satisfies Record<string, readonly [GrpcCode, string]>;

export type ErrorKind = keyof typeof ERRORS;

export class CairnError extends Error {
  readonly kind: ErrorKind;
  readonly grpcCode: GrpcCode;

  /** `detail` replaces the table's message only for kinds whose text depends on the input
   * (BadRequest, KeyTooLarge); every other kind keeps etcd's exact message. */
  constructor(kind: ErrorKind, detail?: string) {
    const [code, message] = ERRORS[kind];
    super(detail ?? message);
    this.name = 'CairnError';
    this.kind = kind;
    this.grpcCode = code;
  }

  get httpStatus(): number {
    return httpStatusOf(this.grpcCode);
  }
}

export function isCairnError(e: unknown): e is CairnError {
  return e instanceof CairnError;
}

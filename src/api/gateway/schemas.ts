/**
 * JSON Schemas of etcd's v3 gateway messages, as data: ajv validates request bodies with them
 * and @fastify/swagger turns them into the OpenAPI document. Field names are the proto's JSON
 * names (snake_case; camelCase input is normalised before validation). Every field may be
 * null, as Go's decoder allows. `x-go-type` names the Go type etcd would report in a type
 * error, so our 400s read like etcd's.
 */

export const bytesField = (description: string) => ({
  type: ['string', 'null'],
  contentEncoding: 'base64',
  'x-go-type': '[]uint8',
  description,
});

export const int64Field = (description: string) => ({
  type: ['string', 'integer', 'null'],
  pattern: '^-?[0-9]+$',
  'x-go-type': 'int64',
  description,
});

export const boolField = (description: string) => ({
  type: ['boolean', 'null'],
  'x-go-type': 'bool',
  description,
});

export const enumField = (goType: string, names: string[], description: string) => ({
  type: ['string', 'integer', 'null'],
  pattern: `^(${names.join('|')})$`,
  'x-go-type': goType,
  'x-enum-names': names,
  description: `${description} One of ${names.join(', ')} (by name or number).`,
});

const int64Out = { type: 'string', description: 'int64 as a decimal string' } as const;
const bytesOut = { type: 'string', contentEncoding: 'base64' } as const;

export const ResponseHeaderSchema = {
  $id: 'ResponseHeader',
  type: 'object',
  properties: { cluster_id: int64Out, member_id: int64Out, revision: int64Out, raft_term: int64Out },
} as const;

export const KeyValueSchema = {
  $id: 'KeyValue',
  type: 'object',
  properties: {
    key: bytesOut,
    create_revision: int64Out,
    mod_revision: int64Out,
    version: int64Out,
    value: bytesOut,
    lease: int64Out,
  },
} as const;

export const ErrorSchema = {
  $id: 'GatewayError',
  type: 'object',
  properties: { error: { type: 'string' }, code: { type: 'integer' }, message: { type: 'string' } },
} as const;

export const RangeRequestSchema = {
  $id: 'RangeRequest',
  type: ['object', 'null'],
  properties: {
    key: bytesField('First key of the range; a single key when range_end is absent.'),
    range_end: bytesField('End of the range (exclusive); "AA==" (a zero byte) means every key >= key.'),
    limit: int64Field('Most keys returned; 0 means no limit.'),
    revision: int64Field('Read at this revision; 0 or absent means the current one.'),
    sort_order: enumField('etcdserverpb.RangeRequest_SortOrder', ['NONE', 'ASCEND', 'DESCEND'], 'Sort order.'),
    sort_target: enumField('etcdserverpb.RangeRequest_SortTarget', ['KEY', 'VERSION', 'CREATE', 'MOD', 'VALUE'], 'Field to sort by.'),
    serializable: boolField('Serve from this member without a linearizable read round.'),
    keys_only: boolField('Return keys without values.'),
    count_only: boolField('Return only the count.'),
    min_mod_revision: int64Field('Drop keys modified before this revision.'),
    max_mod_revision: int64Field('Drop keys modified after this revision.'),
    min_create_revision: int64Field('Drop keys created before this revision.'),
    max_create_revision: int64Field('Drop keys created after this revision.'),
  },
} as const;

export const PutRequestSchema = {
  $id: 'PutRequest',
  type: ['object', 'null'],
  properties: {
    key: bytesField('Key to write.'),
    value: bytesField('Value to write.'),
    lease: int64Field('Lease to attach; 0 for none.'),
    prev_kv: boolField('Return the previous key-value.'),
    ignore_value: boolField('Keep the current value.'),
    ignore_lease: boolField('Keep the current lease.'),
  },
} as const;

export const DeleteRangeRequestSchema = {
  $id: 'DeleteRangeRequest',
  type: ['object', 'null'],
  properties: {
    key: bytesField('First key to delete.'),
    range_end: bytesField('End of the range (exclusive); "AA==" means every key >= key.'),
    prev_kv: boolField('Return the deleted key-values.'),
  },
} as const;

export const CompareSchema = {
  $id: 'Compare',
  type: ['object', 'null'],
  properties: {
    result: enumField('etcdserverpb.Compare_CompareResult', ['EQUAL', 'GREATER', 'LESS', 'NOT_EQUAL'], 'Comparison.'),
    target: enumField('etcdserverpb.Compare_CompareTarget', ['VERSION', 'CREATE', 'MOD', 'VALUE', 'LEASE'], 'What to compare.'),
    key: bytesField('Key to compare.'),
    version: int64Field('For target VERSION.'),
    create_revision: int64Field('For target CREATE.'),
    mod_revision: int64Field('For target MOD.'),
    value: bytesField('For target VALUE.'),
    lease: int64Field('For target LEASE.'),
    range_end: bytesField('Compare every key in [key, range_end).'),
  },
} as const;

export const RequestOpSchema = {
  $id: 'RequestOp',
  type: ['object', 'null'],
  properties: {
    request_range: { $ref: 'RangeRequest#' },
    request_put: { $ref: 'PutRequest#' },
    request_delete_range: { $ref: 'DeleteRangeRequest#' },
    request_txn: { $ref: 'TxnRequest#' },
  },
} as const;

export const TxnRequestSchema = {
  $id: 'TxnRequest',
  type: ['object', 'null'],
  properties: {
    compare: { type: ['array', 'null'], items: { $ref: 'Compare#' }, 'x-go-type': '[]*etcdserverpb.Compare' },
    success: { type: ['array', 'null'], items: { $ref: 'RequestOp#' }, 'x-go-type': '[]*etcdserverpb.RequestOp' },
    failure: { type: ['array', 'null'], items: { $ref: 'RequestOp#' }, 'x-go-type': '[]*etcdserverpb.RequestOp' },
  },
} as const;

export const CompactionRequestSchema = {
  $id: 'CompactionRequest',
  type: ['object', 'null'],
  properties: {
    revision: int64Field('Compact history below this revision.'),
    physical: boolField('Answer only after the history is physically removed.'),
  },
} as const;

const header = { $ref: 'ResponseHeader#' } as const;

export const RangeResponseSchema = {
  $id: 'RangeResponse',
  type: 'object',
  properties: {
    header,
    kvs: { type: 'array', items: { $ref: 'KeyValue#' } },
    more: { type: 'boolean' },
    count: int64Out,
  },
} as const;

export const PutResponseSchema = {
  $id: 'PutResponse',
  type: 'object',
  properties: { header, prev_kv: { $ref: 'KeyValue#' } },
} as const;

export const DeleteRangeResponseSchema = {
  $id: 'DeleteRangeResponse',
  type: 'object',
  properties: { header, deleted: int64Out, prev_kvs: { type: 'array', items: { $ref: 'KeyValue#' } } },
} as const;

export const ResponseOpSchema = {
  $id: 'ResponseOp',
  type: 'object',
  properties: {
    response_range: { $ref: 'RangeResponse#' },
    response_put: { $ref: 'PutResponse#' },
    response_delete_range: { $ref: 'DeleteRangeResponse#' },
    response_txn: { $ref: 'TxnResponse#' },
  },
} as const;

export const TxnResponseSchema = {
  $id: 'TxnResponse',
  type: 'object',
  properties: {
    header,
    succeeded: { type: 'boolean' },
    responses: { type: 'array', items: { $ref: 'ResponseOp#' } },
  },
} as const;

export const CompactionResponseSchema = {
  $id: 'CompactionResponse',
  type: 'object',
  properties: { header },
} as const;

// ---- lease and watch (etcd's JSON names: ID, TTL, grantedTTL) ----

export const LeaseGrantRequestSchema = {
  $id: 'LeaseGrantRequest',
  type: ['object', 'null'],
  properties: {
    TTL: int64Field('Time to live in seconds; below the minimum (1.5 election timeouts) it becomes the minimum.'),
    ID: int64Field('Lease ID to use; 0 or absent: the server picks one.'),
  },
} as const;

export const LeaseIdRequestSchema = {
  $id: 'LeaseIdRequest',
  type: ['object', 'null'],
  properties: { ID: int64Field('Lease ID.') },
} as const;

export const LeaseTimeToLiveRequestSchema = {
  $id: 'LeaseTimeToLiveRequest',
  type: ['object', 'null'],
  properties: { ID: int64Field('Lease ID.'), keys: boolField('Also list the keys attached to the lease.') },
} as const;

export const LeaseLeasesRequestSchema = {
  $id: 'LeaseLeasesRequest',
  type: ['object', 'null'],
  properties: {},
} as const;

export const LeaseGrantResponseSchema = {
  $id: 'LeaseGrantResponse',
  type: 'object',
  properties: { header, ID: int64Out, TTL: int64Out, error: { type: 'string' } },
} as const;

export const LeaseRevokeResponseSchema = {
  $id: 'LeaseRevokeResponse',
  type: 'object',
  properties: { header },
} as const;

export const LeaseTimeToLiveResponseSchema = {
  $id: 'LeaseTimeToLiveResponse',
  type: 'object',
  properties: {
    header,
    ID: int64Out,
    TTL: { type: 'string', description: 'Seconds left, rounded down; "-1" when the lease does not exist.' },
    grantedTTL: int64Out,
    keys: { type: 'array', items: bytesOut },
  },
} as const;

export const LeaseLeasesResponseSchema = {
  $id: 'LeaseLeasesResponse',
  type: 'object',
  properties: { header, leases: { type: 'array', items: { type: 'object', properties: { ID: int64Out } } } },
} as const;

/** Documentation only: /v3/watch and /v3/lease/keepalive read their bodies as streams. */
export const WatchRequestSchema = {
  $id: 'WatchRequest',
  type: ['object', 'null'],
  description: 'One or more of these, back to back, in the request body.',
  properties: {
    create_request: {
      type: ['object', 'null'],
      properties: {
        key: bytesField('Key to watch.'),
        range_end: bytesField('End of the range (exclusive); "AA==" means every key >= key.'),
        start_revision: int64Field('First revision to send; 0 or absent: from now. Below the compaction point the watch is canceled with compact_revision.'),
        progress_notify: boolField('Send an empty response with the current revision when idle.'),
        filters: { type: ['array', 'null'], items: enumField('etcdserverpb.WatchCreateRequest_FilterType', ['NOPUT', 'NODELETE'], 'Event type to leave out.') },
        prev_kv: boolField('Include the previous key-value in each event.'),
        watch_id: int64Field('Watch ID to use on this stream; 0: the stream picks one.'),
        fragment: boolField('Split responses larger than the request limit.'),
      },
    },
    cancel_request: { type: ['object', 'null'], properties: { watch_id: int64Field('Watch to cancel.') } },
    progress_request: { type: ['object', 'null'], properties: {} },
  },
} as const;

export const WatchResponseSchema = {
  $id: 'WatchResponse',
  type: 'object',
  description: 'Each message of the response stream is {"result": WatchResponse} and a newline, in one HTTP chunk.',
  properties: {
    header,
    watch_id: int64Out,
    created: { type: 'boolean' },
    canceled: { type: 'boolean' },
    compact_revision: int64Out,
    cancel_reason: { type: 'string' },
    fragment: { type: 'boolean' },
    events: {
      type: 'array',
      items: {
        type: 'object',
        properties: { type: { type: 'string', enum: ['PUT', 'DELETE'] }, kv: { $ref: 'KeyValue#' }, prev_kv: { $ref: 'KeyValue#' } },
      },
    },
  },
} as const;

export const LEASE_WATCH_SCHEMAS = [
  LeaseGrantRequestSchema, LeaseIdRequestSchema, LeaseTimeToLiveRequestSchema, LeaseLeasesRequestSchema,
  LeaseGrantResponseSchema, LeaseRevokeResponseSchema, LeaseTimeToLiveResponseSchema, LeaseLeasesResponseSchema,
  WatchRequestSchema, WatchResponseSchema,
] as const;

// ---- lock and election (etcd's v3lock and v3election services) ----

export const LockRequestSchema = {
  $id: 'LockRequest',
  type: ['object', 'null'],
  properties: {
    name: bytesField('Name of the lock; contenders put their keys under `name/`.'),
    lease: int64Field('Lease the lock key is attached to (it is released when the lease ends); 0: a 60 s lease of the server\'s own.'),
  },
} as const;

export const LockResponseSchema = {
  $id: 'LockResponse',
  type: 'object',
  properties: { header, key: { ...bytesOut, description: 'The key that holds the lock (`name/<lease in hex>`); pass it to unlock.' } },
} as const;

export const UnlockRequestSchema = {
  $id: 'UnlockRequest',
  type: ['object', 'null'],
  properties: { key: bytesField('The key that lock returned.') },
} as const;

export const HeaderOnlyResponseSchema = {
  $id: 'HeaderOnlyResponse',
  type: 'object',
  properties: { header },
} as const;

const leaderKeyFields = {
  name: bytesField('Election name.'),
  key: bytesField('The leader\'s key (`name/<lease in hex>`).'),
  rev: int64Field('Create revision of the leader\'s key.'),
  lease: int64Field('Lease of the leader\'s key.'),
};

export const LeaderKeySchema = {
  $id: 'LeaderKey',
  type: ['object', 'null'],
  'x-go-type': 'v3electionpb.LeaderKey',
  properties: leaderKeyFields,
} as const;

export const CampaignRequestSchema = {
  $id: 'CampaignRequest',
  type: ['object', 'null'],
  properties: {
    name: bytesField('Election name.'),
    lease: int64Field('Lease of the candidate\'s key; 0: a 60 s lease of the server\'s own.'),
    value: bytesField('The value proclaimed on election.'),
  },
} as const;

export const CampaignResponseSchema = {
  $id: 'CampaignResponse',
  type: 'object',
  properties: {
    header,
    leader: {
      type: 'object',
      properties: { name: bytesOut, key: bytesOut, rev: int64Out, lease: int64Out },
    },
  },
} as const;

export const ProclaimRequestSchema = {
  $id: 'ProclaimRequest',
  type: ['object', 'null'],
  properties: { leader: { $ref: 'LeaderKey#' }, value: bytesField('The new value.') },
} as const;

export const ResignRequestSchema = {
  $id: 'ResignRequest',
  type: ['object', 'null'],
  properties: { leader: { $ref: 'LeaderKey#' } },
} as const;

export const LeaderRequestSchema = {
  $id: 'LeaderRequest',
  type: ['object', 'null'],
  properties: { name: bytesField('Election name.') },
} as const;

export const LeaderResponseSchema = {
  $id: 'LeaderResponse',
  type: 'object',
  properties: { header, kv: { $ref: 'KeyValue#' } },
} as const;

export const CONCURRENCY_SCHEMAS = [
  LockRequestSchema, LockResponseSchema, UnlockRequestSchema, HeaderOnlyResponseSchema, LeaderKeySchema,
  CampaignRequestSchema, CampaignResponseSchema, ProclaimRequestSchema, ResignRequestSchema, LeaderRequestSchema,
  LeaderResponseSchema,
] as const;

/** Every shared schema, in an order where references resolve. */
// ---- auth (etcd's Auth service) ----

const stringField = (description: string) => ({ type: ['string', 'null'], 'x-go-type': 'string', description });
const namesOut = { type: 'array', items: { type: 'string' } } as const;

function authRequest(id: string, properties: Record<string, unknown>) {
  return { $id: id, type: ['object', 'null'], properties } as const;
}

const PermissionFields = {
  perm_type: enumField('authpb.Permission_Type', ['READ', 'WRITE', 'READWRITE'], 'What the permission allows (`permType` in etcd\'s JSON).'),
  key: bytesField('The key, or the start of the range.'),
  range_end: bytesField('End of the range (exclusive); empty: the one key; "\\0" (AA==): every key from `key` on.'),
};

export const AUTH_SCHEMAS = [
  authRequest('AuthEmptyRequest', {}),
  authRequest('AuthenticateRequest', { name: stringField('User name.'), password: stringField('Password.') }),
  authRequest('AuthUserAddRequest', {
    name: stringField('User name.'), password: stringField('Password (hashed by the member; never stored).'),
    options: { type: ['object', 'null'], 'x-go-type': 'authpb.UserAddOptions', properties: { no_password: boolField('A user that cannot authenticate with a password.') } },
  }),
  authRequest('AuthUserNameRequest', { name: stringField('User name.') }),
  authRequest('AuthUserChangePasswordRequest', { name: stringField('User name.'), password: stringField('New password.') }),
  authRequest('AuthUserGrantRoleRequest', { user: stringField('User name.'), role: stringField('Role name.') }),
  authRequest('AuthUserRevokeRoleRequest', { name: stringField('User name.'), role: stringField('Role name.') }),
  authRequest('AuthRoleAddRequest', { name: stringField('Role name.') }),
  authRequest('AuthRoleNameRequest', { role: stringField('Role name.') }),
  authRequest('AuthRoleGrantPermissionRequest', {
    name: stringField('Role name.'),
    perm: { type: ['object', 'null'], 'x-go-type': 'authpb.Permission', properties: PermissionFields },
  }),
  authRequest('AuthRoleRevokePermissionRequest', { role: stringField('Role name.'), key: bytesField('Key of the permission.'), range_end: bytesField('Range end of the permission.') }),
  { $id: 'AuthenticateResponse', type: 'object', properties: { header, token: { type: 'string' } } },
  { $id: 'AuthStatusResponse', type: 'object', properties: { header, enabled: { type: 'boolean' }, authRevision: int64Out } },
  { $id: 'AuthUserGetResponse', type: 'object', properties: { header, roles: namesOut } },
  { $id: 'AuthUserListResponse', type: 'object', properties: { header, users: namesOut } },
  { $id: 'AuthRoleListResponse', type: 'object', properties: { header, roles: namesOut } },
  {
    $id: 'AuthRoleGetResponse', type: 'object',
    properties: {
      header,
      perm: {
        type: 'array',
        items: { type: 'object', properties: { permType: { type: 'string', enum: ['WRITE', 'READWRITE'] }, key: bytesOut, range_end: bytesOut } },
      },
    },
  },
] as const;

export const GATEWAY_SCHEMAS = [
  ResponseHeaderSchema, KeyValueSchema, ErrorSchema,
  RangeRequestSchema, PutRequestSchema, DeleteRangeRequestSchema, CompareSchema, RequestOpSchema,
  TxnRequestSchema, CompactionRequestSchema,
  RangeResponseSchema, PutResponseSchema, DeleteRangeResponseSchema, ResponseOpSchema, TxnResponseSchema,
  CompactionResponseSchema,
  ...LEASE_WATCH_SCHEMAS,
  ...CONCURRENCY_SCHEMAS,
  ...AUTH_SCHEMAS,
] as const;

/**
 * Turning failures into answers. On etcd's gateway routes (`/v3/...`) every error has etcd's
 * shape `{"error","message","code"}` with the gRPC code and the HTTP status etcd gives; on the
 * REST face a 4xx/5xx with `{"error": reason, "code": grpcCode}`. Unknown paths answer 404 and
 * known paths with the wrong method 405, in plain text as etcd does. Anything unexpected is
 * logged and answered as a 500: the server keeps serving.
 */
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { CairnError, GrpcCode, httpStatusOf, isCairnError } from '../errors/errors.js';
import { goValidationMessage } from './gateway/validation.js';

export interface ErrorBody {
  error: string;
  message: string;
  code: number;
}

export function gatewayErrorBody(code: number, message: string): ErrorBody {
  return { error: message, message, code };
}

/** Classifies any thrown value as (gRPC code, message). */
export function classify(err: unknown): { code: GrpcCode; message: string; status: number } {
  if (isCairnError(err)) return { code: err.grpcCode, message: err.message, status: err.httpStatus };
  const fe = err as FastifyError & { validation?: unknown[] };
  if (fe && fe.validation) {
    const message = goValidationMessage(fe.validation as never);
    return { code: GrpcCode.InvalidArgument, message, status: 400 };
  }
  if (fe && fe.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
    const e = new CairnError('RequestTooLarge');
    return { code: e.grpcCode, message: e.message, status: e.httpStatus };
  }
  if (fe && typeof fe.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) {
    return { code: GrpcCode.InvalidArgument, message: fe.message, status: fe.statusCode };
  }
  return { code: GrpcCode.Unknown, message: (err as Error)?.message ?? 'internal error', status: httpStatusOf(GrpcCode.Unknown) };
}

export function sendGatewayError(req: FastifyRequest, reply: FastifyReply, err: unknown): FastifyReply {
  const c = classify(err);
  if (c.status >= 500 && c.code === GrpcCode.Unknown) req.log.error({ err }, 'request failed');
  return reply.code(c.status).type('application/json').serializer(JSON.stringify).send(gatewayErrorBody(c.code, c.message));
}

export function sendRestError(req: FastifyRequest, reply: FastifyReply, err: unknown): FastifyReply {
  const c = classify(err);
  if (c.status >= 500 && c.code === GrpcCode.Unknown) req.log.error({ err }, 'request failed');
  return reply.code(c.status).type('application/json').serializer(JSON.stringify).send({ error: c.message, code: c.code });
}

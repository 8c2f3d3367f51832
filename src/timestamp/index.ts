/** Public surface of the RFC 3161 module, for the node and the CLI. */
export {
  acceptResponse,
  type Service,
  type StampOptions,
  type StampResult,
  type TimestampAuthority,
  type TrustConfig,
} from './authority.ts';
export { createTsaCredentials, issueCertificate } from './certs.ts';
export { HttpTsaClient, type HttpTsaClientOptions, isTransient } from './client.ts';
export { initTsaDir, issueTsaCrl, openEmbeddedTsa, TsaFiles } from './dir.ts';
export { isTimestampError, TimestampError, TimestampErrorCode } from './errors.ts';
export {
  type EvidenceTokenOptions,
  type EvidenceTokenResult,
  verifyEvidenceTokenAsync,
} from './evidence.ts';
export { createGenesisTokenVerifier, GenesisTokenVerifier } from './genesis-verifier.ts';
export { describeTimestamp, type TimestampDescription } from './inspect.ts';
export { TsaLimits } from './limits.ts';
export { DEFAULT_TSA_POLICY, type HashAlg, isHashAlg } from './oids.ts';
export { buildTimeStampReq, parseTimeStampReq, type TimeStampRequest } from './request.ts';
export { FileSerialStore } from './serial.ts';
export { TsaHttpServer, type TsaLogger, type TsaServerOptions } from './server.ts';
export { EmbeddedTsa, type EmbeddedTsaOptions, type SerialSource, type TsaReply } from './tsa.ts';
export {
  CHECKS,
  type CheckName,
  type CheckOutcome,
  checkBinding,
  type VerifyOptions,
  type VerifyResult,
  verifyTimestampAsync,
} from './verify.ts';
export { verifyEvidenceToken, verifyTimestamp } from './verify-node.ts';
export { type Cert, parseCertificate, parsePemCertificates } from './x509.ts';

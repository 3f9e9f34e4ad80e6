import { SwrSyncError } from '../errors.js';
import type { NameRule } from '../kubernetes/names.js';
import { requireRule } from '../kubernetes/names.js';
import { REGISTRY_HOST, type RegistryLogin } from '../kubernetes/pull-secret.js';
import { swrLoginKey, swrLoginUser } from './login-key.js';

/**
 * The SWR entry of a pull secret, as CCI's imagepull-secret-generator builds it from `--ak --sk --project-name
 * --swr-address` (huawei-docs cce-bursting-images-and-image-replacement; ucs-image-repository-and-image-secret):
 * user `<regional project name>@<AK>`, password the long-term login key (docs/swr.md).
 */
export interface SwrAccessKeyLogin {
  /** Registry host, e.g. 'swr.cn-north-4.myhuaweicloud.com'. */
  readonly server: string;
  /** Regional project name, e.g. 'cn-north-4' or a sub-project 'cn-north-4_team'. */
  readonly projectName: string;
  readonly accessKey: string;
  readonly secretKey: string;
}

/**
 * IAM names a region's default project after the region (`cn-north-4`) and sub-projects `<region>_<name>`
 * (`eu-de_myproject` in Open Telekom Cloud examples; docs/swr.md). SWR splits the user at '@', so there must be none.
 */
export const PROJECT_NAME: NameRule = {
  text: "must be a regional project name such as cn-north-4 or cn-north-4_team: 1-64 letters, digits, '-', '_' or '.', no '@' (the login user is PROJECT@AK)",
  test: (v) => /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(v),
};

/** Huawei Cloud AKs are letters and digits (huaweicloud/swr-login checks ^[a-zA-Z0-9]{10,30}$; docs/swr.md). */
export const ACCESS_KEY_TEXT = 'must be letters and digits only';

export function isAccessKey(value: string): boolean {
  return /^[A-Za-z0-9]+$/.test(value);
}

/** The registry login an SWR pull secret holds. Errors name the part, never the AK or SK. */
export function swrRegistryLogin(login: SwrAccessKeyLogin): RegistryLogin {
  requireRule('SWR address', login.server, REGISTRY_HOST);
  requireRule('project name', login.projectName, PROJECT_NAME);
  if (!isAccessKey(login.accessKey))
    throw new SwrSyncError('ERR_INVALID_ARGUMENT', `the access key ${ACCESS_KEY_TEXT}`);
  return {
    server: login.server,
    username: swrLoginUser(login.projectName, login.accessKey),
    password: swrLoginKey(login.accessKey, login.secretKey),
  };
}

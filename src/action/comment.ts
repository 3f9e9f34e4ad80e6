import * as github from '@actions/github';
import type { Shard } from '../plan/shard.js';
import { formatPlanMarkdown, type PlanReport } from '../results/plan-report.js';

/**
 * The plan as ONE comment on the pull request, found again by a hidden marker on later runs and updated in place,
 * so reruns and new pushes never pile up comments. Talks to `GITHUB_API_URL` (GitHub Enterprise Server, or a
 * loopback server in the tests) with the REST API: list the issue's comments (all pages), then create or update.
 */

export const COMMENT_MARKER = '<!-- swr-sync-plan -->';
/** GitHub refuses comment bodies over 65536 characters. */
const BODY_MAX = 65_000;
const ROW_LIMITS = [200, 50, 10, 0];

/** Each shard of a matrix keeps its own comment. */
export function commentMarker(shard: Shard | undefined): string {
  return shard ? `<!-- swr-sync-plan shard=${shard.index}/${shard.count} -->` : COMMENT_MARKER;
}

export interface PullRequestTarget {
  readonly owner: string;
  readonly repo: string;
  readonly number: number;
  readonly headSha?: string;
}

/** The pull request of this run, when the event is one (`pull_request` or `pull_request_target`). */
export function pullRequestOfEvent(context: typeof github.context = github.context): PullRequestTarget | undefined {
  const pr = context.payload.pull_request;
  if (!pr || typeof pr.number !== 'number') return undefined;
  const [owner, repo] = (process.env.GITHUB_REPOSITORY ?? '').split('/');
  const repository = context.payload.repository;
  const ownerName = owner || repository?.owner?.login;
  const repoName = repo || repository?.name;
  if (!ownerName || !repoName) return undefined;
  const headSha = (pr.head as { sha?: unknown } | undefined)?.sha;
  return { owner: ownerName, repo: repoName, number: pr.number, ...(typeof headSha === 'string' ? { headSha } : {}) };
}

/** The comment body: marker, plan (rows bounded so the body stays under GitHub's limit), and where it came from. */
export function commentBody(report: PlanReport, marker: string, footer: string): string {
  for (const maxRows of ROW_LIMITS) {
    const body = `${marker}\n${formatPlanMarkdown(report, { maxRows })}\n${footer}\n`;
    if (body.length <= BODY_MAX || maxRows === 0)
      return body.length <= BODY_MAX ? body : `${body.slice(0, BODY_MAX - 2)}…\n`;
  }
  throw new Error('unreachable');
}

export function commentFooter(target: PullRequestTarget, env: NodeJS.ProcessEnv = process.env): string {
  const server = env.GITHUB_SERVER_URL;
  const run =
    server && env.GITHUB_REPOSITORY && env.GITHUB_RUN_ID
      ? `${server}/${env.GITHUB_REPOSITORY}/actions/runs/${env.GITHUB_RUN_ID}`
      : undefined;
  const commit = target.headSha ? ` for ${target.headSha.slice(0, 7)}` : '';
  return `<sub>swr-sync plan${commit}${run ? ` · [workflow run](${run})` : ''} · updated on every run</sub>`;
}

export interface CommentResult {
  readonly action: 'created' | 'updated';
  readonly id: number;
  readonly url?: string;
}

/** Creates the comment, or updates the one that starts with `marker`. */
export async function upsertComment(options: {
  readonly token: string;
  readonly target: PullRequestTarget;
  readonly marker: string;
  readonly body: string;
  readonly apiUrl?: string;
}): Promise<CommentResult> {
  const baseUrl = options.apiUrl || process.env.GITHUB_API_URL || 'https://api.github.com';
  const octokit = github.getOctokit(options.token, { baseUrl });
  const { owner, repo, number } = options.target;
  const comments = await octokit.paginate(octokit.rest.issues.listComments, {
    owner,
    repo,
    issue_number: number,
    per_page: 100,
  });
  const existing = comments.find((c) => (c.body ?? '').trimStart().startsWith(options.marker));
  if (existing) {
    const { data } = await octokit.rest.issues.updateComment({
      owner,
      repo,
      comment_id: existing.id,
      body: options.body,
    });
    return { action: 'updated', id: data.id, ...(data.html_url ? { url: data.html_url } : {}) };
  }
  const { data } = await octokit.rest.issues.createComment({ owner, repo, issue_number: number, body: options.body });
  return { action: 'created', id: data.id, ...(data.html_url ? { url: data.html_url } : {}) };
}

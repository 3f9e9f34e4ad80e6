import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A loopback stand-in for the GitHub REST API's issue comments, with the real request and response shapes
 * (https://docs.github.com/rest/issues/comments): list an issue's comments (paginated with `per_page` / `page` and
 * a `Link` header), create one, update one. Every request must carry `Authorization: token <token>` (or Bearer);
 * others get 401 as GitHub answers them.
 */

export interface Comment {
  id: number;
  node_id: string;
  url: string;
  html_url: string;
  issue_url: string;
  body: string;
  user: { login: string; id: number; type: string };
  created_at: string;
  updated_at: string;
  author_association: string;
}

export interface RecordedRequest {
  method: string;
  path: string;
  authorization: string | undefined;
  body?: unknown;
}

export interface GitHubApi {
  /** http://127.0.0.1:PORT, what GITHUB_API_URL is set to. */
  url: string;
  /** Comments per issue number. */
  comments: Map<number, Comment[]>;
  requests: RecordedRequest[];
  /** Adds a comment as someone else would have written it. */
  seed(issue: number, body: string, login?: string): Comment;
  close(): Promise<void>;
}

const TIME = '2024-01-01T00:00:00Z';

export async function startGitHubApi(options: { token: string; owner: string; repo: string }): Promise<GitHubApi> {
  const comments = new Map<number, Comment[]>();
  const requests: RecordedRequest[] = [];
  let nextId = 1000;
  let url = '';

  const make = (issue: number, body: string, login: string): Comment => {
    const id = nextId++;
    const repoPath = `${options.owner}/${options.repo}`;
    return {
      id,
      node_id: `IC_${id}`,
      url: `${url}/repos/${repoPath}/issues/comments/${id}`,
      html_url: `https://github.example/${repoPath}/pull/${issue}#issuecomment-${id}`,
      issue_url: `${url}/repos/${repoPath}/issues/${issue}`,
      body,
      user: { login, id: 1, type: login.endsWith('[bot]') ? 'Bot' : 'User' },
      created_at: TIME,
      updated_at: TIME,
      author_association: 'NONE',
    };
  };

  const send = (res: ServerResponse, status: number, value: unknown, headers: Record<string, string> = {}) => {
    res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers });
    res.end(JSON.stringify(value));
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    const target = new URL(req.url ?? '/', url);
    const record: RecordedRequest = {
      method: req.method ?? '',
      path: `${target.pathname}${target.search}`,
      authorization: req.headers.authorization,
    };
    if (text) record.body = JSON.parse(text);
    requests.push(record);

    const auth = req.headers.authorization ?? '';
    if (auth !== `token ${options.token}` && auth !== `Bearer ${options.token}`) {
      send(res, 401, { message: 'Bad credentials', documentation_url: 'https://docs.github.com/rest' });
      return;
    }
    const prefix = `/repos/${options.owner}/${options.repo}/issues/`;
    const path = target.pathname;
    if (!path.startsWith(prefix)) {
      send(res, 404, { message: 'Not Found' });
      return;
    }
    const rest = path.slice(prefix.length);
    const list = /^(\d+)\/comments$/.exec(rest);
    const one = /^comments\/(\d+)$/.exec(rest);
    if (list && req.method === 'GET') {
      const issue = Number(list[1]);
      const all = comments.get(issue) ?? [];
      const perPage = Math.min(Number(target.searchParams.get('per_page') ?? 30), 100);
      const page = Number(target.searchParams.get('page') ?? 1);
      const pages = Math.max(1, Math.ceil(all.length / perPage));
      const link = (p: number) => `<${url}${path}?per_page=${perPage}&page=${p}>`;
      const links: string[] = [];
      if (page < pages) links.push(`${link(page + 1)}; rel="next"`, `${link(pages)}; rel="last"`);
      if (page > 1) links.push(`${link(1)}; rel="first"`, `${link(page - 1)}; rel="prev"`);
      send(res, 200, all.slice((page - 1) * perPage, page * perPage), links.length ? { link: links.join(', ') } : {});
      return;
    }
    if (list && req.method === 'POST') {
      const issue = Number(list[1]);
      const body = (record.body as { body?: unknown } | undefined)?.body;
      if (typeof body !== 'string') {
        send(res, 422, { message: 'Invalid request.\n\n"body" wasn\'t supplied.' });
        return;
      }
      const comment = make(issue, body, 'github-actions[bot]');
      comments.set(issue, [...(comments.get(issue) ?? []), comment]);
      send(res, 201, comment, { location: comment.url });
      return;
    }
    if (one && req.method === 'PATCH') {
      const id = Number(one[1]);
      const comment = [...comments.values()].flat().find((c) => c.id === id);
      const body = (record.body as { body?: unknown } | undefined)?.body;
      if (!comment) {
        send(res, 404, { message: 'Not Found' });
        return;
      }
      if (typeof body !== 'string') {
        send(res, 422, { message: 'Invalid request.' });
        return;
      }
      comment.body = body;
      comment.updated_at = '2024-01-02T00:00:00Z';
      send(res, 200, comment);
      return;
    }
    send(res, 404, { message: 'Not Found' });
  };

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => send(res, 500, { message: String(error) }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    comments,
    requests,
    seed(issue, body, login = 'reviewer') {
      const comment = make(issue, body, login);
      comments.set(issue, [...(comments.get(issue) ?? []), comment]);
      return comment;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

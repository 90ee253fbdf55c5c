/**
 * The http-level directives that keep an unprivileged nginx inside `dir`:
 * its temp files otherwise go under /var/lib/nginx.
 */
export function nginxTempPaths(dir: string): string {
  return ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']
    .map((kind) => `    ${kind}_temp_path ${dir}/${kind};`)
    .join('\n');
}

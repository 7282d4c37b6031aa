/** What one command on an emulated VM answers: exit code, stdout, stderr. */
export interface ExecOut {
  code: number;
  stdout: string;
  stderr: string;
}

export const ok = (stdout = ''): ExecOut => ({ code: 0, stdout, stderr: '' });
export const fail = (code: number, stderr: string): ExecOut => ({ code, stdout: '', stderr });

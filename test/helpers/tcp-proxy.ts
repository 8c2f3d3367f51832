/**
 * A TCP proxy on 127.0.0.1 that can freeze: while frozen it stops moving bytes in both directions and holds
 * new connections without forwarding them, as a hung process or a silent network partition would.
 */
import { createConnection, createServer, type Server, type Socket } from 'node:net';

export class FreezableProxy {
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();
  private readonly held: Socket[] = [];
  private frozen = false;
  private readonly targetPort: number;

  private constructor(targetPort: number) {
    this.targetPort = targetPort;
    this.server = createServer((client) => this.accept(client));
  }

  static async start(targetPort: number): Promise<FreezableProxy> {
    const p = new FreezableProxy(targetPort);
    await new Promise<void>((resolve, reject) => {
      p.server.once('error', reject);
      p.server.listen(0, '127.0.0.1', () => resolve());
    });
    return p;
  }

  get port(): number {
    const addr = this.server.address();
    if (addr === null || typeof addr === 'string') throw new Error('proxy not listening');
    return addr.port;
  }

  freeze(): void {
    this.frozen = true;
    for (const s of this.sockets) s.pause();
  }

  thaw(): void {
    this.frozen = false;
    for (const s of this.sockets) s.resume();
    for (const c of this.held.splice(0)) this.forward(c);
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    for (const s of this.held.splice(0)) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(client: Socket): void {
    this.track(client);
    client.pause();
    if (this.frozen) this.held.push(client);
    else this.forward(client);
  }

  private forward(client: Socket): void {
    const upstream = createConnection({ host: '127.0.0.1', port: this.targetPort });
    this.track(upstream);
    client.pipe(upstream);
    upstream.pipe(client);
    client.resume();
    if (this.frozen) {
      client.pause();
      upstream.pause();
    }
  }

  private track(s: Socket): void {
    this.sockets.add(s);
    s.on('error', () => s.destroy());
    s.on('close', () => this.sockets.delete(s));
  }
}

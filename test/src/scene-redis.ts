import { realRedis, type RealRedis } from '@surrogate/testing';
import { Redis } from 'ioredis';
import type { SystemScene } from './system-scene';

/**
 * A real Redis for a scene's producers (started when none answers), and a client on it to read
 * what they keep. After the file, the producers' keys of the scene's namespace are deleted. Create
 * it at describe level, after the scene: it registers its own beforeAll and afterAll.
 */
export class SceneRedis {
  private redis: RealRedis | undefined;
  private connection: Redis | undefined;

  constructor(private readonly scene: SystemScene) {
    beforeAll(async () => {
      this.redis = await realRedis();
      this.connection = new Redis(this.redis.url, { lazyConnect: true });
      await this.connection.connect();
    }, 60_000);
    afterAll(async () => {
      if (this.connection) {
        const keys = await this.connection.keys(this.key('*'));
        if (keys.length) await this.connection.del(...keys);
        await this.connection.quit();
      }
      await this.redis?.stop();
    });
  }

  /** What the producers are given as `--redis`. */
  get url(): string {
    return (this.redis as RealRedis).url;
  }

  get client(): Redis {
    return this.connection as Redis;
  }

  /** A key of the producers' state in the scene's namespace: `surrogate:{public/<namespace>}:<rest>`. */
  key(rest: string): string {
    return `surrogate:{public/${this.scene.namespace}}:${rest}`;
  }
}

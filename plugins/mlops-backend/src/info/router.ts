import { HttpAuthService } from '@backstage/backend-plugin-api';
import Router from 'express-promise-router';
import { InfoService } from './InfoService';

export function createInfoRouter(options: {
  httpAuth: HttpAuthService;
  infoService: InfoService;
}) {
  const { httpAuth, infoService } = options;
  const router = Router();

  router.get('/info', async (req, res) => {
    await httpAuth.credentials(req, { allow: ['user', 'service'] });
    res.json(await infoService.getInfo());
  });

  return router;
}

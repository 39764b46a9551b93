import { configurationMarkdown } from '../src/config.ts';

process.stdout.write(configurationMarkdown());

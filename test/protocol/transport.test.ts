/** The one transport contract suite, run over every link implementation. */
import { memoryFixture, mqttAedesFixture, mqttMosquittoFixture, wsFixture } from './helpers/fixtures.js';
import { transportContract } from './helpers/contract.js';

transportContract(memoryFixture());
transportContract(wsFixture());
transportContract(mqttAedesFixture());
transportContract(mqttMosquittoFixture());
